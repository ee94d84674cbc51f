import { Injectable, effect, signal } from '@angular/core';

export type ViewerTheme = 'dark' | 'light' | 'high-contrast';
export const THEMES: readonly ViewerTheme[] = ['dark', 'light', 'high-contrast'];
/** What the reader sees for each theme. */
export const THEME_LABELS: Readonly<Record<ViewerTheme, string>> = { dark: 'Dark', light: 'Light', 'high-contrast': 'High contrast' };
export const FONT_SIZES = { min: 16, max: 64, step: 4, initial: 28 } as const;
const STORAGE_KEY = 'captions.viewer-settings';

interface Stored {
  fontSize: number;
  theme: ViewerTheme;
}

/** The reader's font size and theme, remembered in this browser. */
@Injectable({ providedIn: 'root' })
export class ViewerSettings {
  private readonly stored = this.load();
  readonly fontSize = signal(this.stored.fontSize);
  readonly theme = signal<ViewerTheme>(this.stored.theme);

  constructor() {
    effect(() => {
      const value: Stored = { fontSize: this.fontSize(), theme: this.theme() };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    });
  }

  bigger(): void {
    this.fontSize.update((size) => Math.min(FONT_SIZES.max, size + FONT_SIZES.step));
  }

  smaller(): void {
    this.fontSize.update((size) => Math.max(FONT_SIZES.min, size - FONT_SIZES.step));
  }

  private load(): Stored {
    try {
      const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Stored>;
      const size = Number(raw.fontSize);
      return {
        fontSize: size >= FONT_SIZES.min && size <= FONT_SIZES.max ? size : FONT_SIZES.initial,
        theme: THEMES.includes(raw.theme as ViewerTheme) ? (raw.theme as ViewerTheme) : 'dark',
      };
    } catch {
      return { fontSize: FONT_SIZES.initial, theme: 'dark' };
    }
  }
}
