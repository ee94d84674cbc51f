import { ChangeDetectionStrategy, Component, ElementRef, afterRenderEffect, input, output, signal, viewChild } from '@angular/core';
import type { CaptionLine } from '../core/caption-transcript';

export interface CorrectionRequest {
  readonly id: string;
  readonly text: string;
}

/** The presenter's own captions: partial greyed, finals solid; a final can be clicked and corrected. */
@Component({
  selector: 'app-caption-preview',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div #scroller class="scroller" aria-live="polite" aria-label="Your captions">
      @for (line of finals(); track line.id) {
        @if (editing() === line.id) {
          <input class="edit" [value]="line.text" aria-label="Correct this caption"
                 (keydown.enter)="save(line, $event)" (keydown.escape)="editing.set(null)" (blur)="editing.set(null)" />
        } @else {
          <button type="button" class="final" [class.corrected]="line.corrected" (click)="editing.set(line.id)"
                  title="Click to correct">{{ line.text }}</button>
        }
      } @empty {
        @if (!partial()) {
          <p class="hint">Your captions appear here as you speak.</p>
        }
      }
      @if (partial(); as line) {
        <span class="partial">{{ line.text }}</span>
      }
    </div>
  `,
  styles: `
    .scroller { max-height: 40vh; overflow-y: auto; font-size: 1.35rem; line-height: 1.5; padding: 0.5rem;
      background: #111; color: #fff; border-radius: 0.5rem; }
    .final { all: unset; cursor: text; margin-right: 0.3em; border-radius: 0.2em; }
    .final:hover, .final:focus-visible { outline: 2px solid #8ab4f8; }
    .final.corrected { text-decoration: underline dotted #8ab4f8; }
    .partial { color: #aaa; }
    .edit { font: inherit; width: 100%; }
    .hint { color: #aaa; margin: 0; }
  `,
})
export class CaptionPreview {
  readonly finals = input.required<readonly CaptionLine[]>();
  readonly partial = input<CaptionLine | null>(null);
  readonly correct = output<CorrectionRequest>();
  protected readonly editing = signal<string | null>(null);
  private readonly scroller = viewChild.required<ElementRef<HTMLElement>>('scroller');

  constructor() {
    afterRenderEffect(() => {
      this.finals();
      this.partial();
      const element = this.scroller().nativeElement;
      if (!this.editing()) element.scrollTop = element.scrollHeight;
    });
  }

  protected save(line: CaptionLine, event: Event): void {
    const text = (event.target as HTMLInputElement).value.trim();
    this.editing.set(null);
    if (text && text !== line.text) this.correct.emit({ id: line.id, text });
  }
}
