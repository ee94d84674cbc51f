import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { PresenterKeys } from '../core/presenter-keys';
import { RoomsApi } from '../core/rooms-api';

export const LANGUAGES: readonly { code: string; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
  { code: 'es', name: 'Español' },
  { code: 'fr', name: 'Français' },
  { code: 'it', name: 'Italiano' },
  { code: 'nl', name: 'Nederlands' },
  { code: 'pt', name: 'Português' },
];

/** Create a room, or open one with its presenter key. */
@Component({
  selector: 'app-home-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './home-page.html',
  styleUrl: './home-page.css',
})
export class HomePage {
  private readonly api = inject(RoomsApi);
  private readonly keys = inject(PresenterKeys);
  private readonly router = inject(Router);
  protected readonly languages = LANGUAGES;
  protected readonly title = signal('');
  protected readonly language = signal('en');
  protected readonly private = signal(false);
  protected readonly openId = signal('');
  protected readonly openKey = signal('');
  protected readonly busy = signal(false);
  protected readonly problem = signal<string | null>(null);

  protected async create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const title = this.title().trim();
    if (!title) {
      this.problem.set('Give the room a title.');
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const room = await this.api.create({ title, language: this.language(), private: this.private() });
      this.keys.save(room.id, room.presenter_key);
      if (room.viewer_token) this.keys.saveViewerToken(room.id, room.viewer_token);
      await this.router.navigate(['/present', room.id]);
    } catch (error) {
      const status = (error as { status?: number }).status;
      this.problem.set(
        status === 429
          ? 'Too many rooms were created from your network; try again later.'
          : 'The room could not be created. Is the server reachable?',
      );
    } finally {
      this.busy.set(false);
    }
  }

  protected async open(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const id = this.openId().trim();
    const key = this.openKey().trim();
    if (!id || !key) {
      this.problem.set('Enter the room id and its presenter key.');
      return;
    }
    this.keys.save(id, key);
    await this.router.navigate(['/present', id]);
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement).value;
  }
}
