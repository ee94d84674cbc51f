import { ChangeDetectionStrategy, Component, OnInit, computed, inject, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import type { Capabilities } from '../core/generated';
import { describeError } from '../core/error-sentences';
import { MyRooms, type MyRoom } from '../core/my-rooms';
import { PresenterKeys } from '../core/presenter-keys';
import { RoomsApi } from '../core/rooms-api';
import { MAX_TERMS, parseTerms } from '../shared/vocabulary-terms';
import { parsePresenterAccess } from './presenter-link';

const NAMES = new Intl.DisplayNames(['en'], { type: 'language' });

/** A language's name in English (and in itself, where that differs), for the room's language choice. */
export function languageName(code: string): string {
  const english = NAMES.of(code) ?? code;
  try {
    const own = new Intl.DisplayNames([code], { type: 'language' }).of(code);
    return own && own !== english ? `${english} (${own})` : english;
  } catch {
    return english;
  }
}

/** When a room was last used, as people say it. */
function lastUsed(at: number, now = Date.now()): string {
  const minutes = Math.round((now - at) / 60_000);
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (minutes < 60) return relative.format(-minutes, 'minute');
  if (minutes < 24 * 60) return relative.format(-Math.round(minutes / 60), 'hour');
  return relative.format(-Math.round(minutes / (24 * 60)), 'day');
}

/** Why a room was not created, in words for the person creating it. */
function creationProblem(status?: number, code?: string): string {
  if (code === 'organizer_required') return describeError({ code });
  if (status === 429) return 'Too many rooms were created from your network; try again later.';
  if (code) return `The room could not be created. ${describeError({ code })}`;
  return 'The room could not be created. Is the server reachable?';
}

/** Create a room, or open one with its presenter key. */
@Component({
  selector: 'app-home-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink],
  templateUrl: './home-page.html',
  styleUrl: './home-page.css',
})
export class HomePage implements OnInit {
  private readonly api = inject(RoomsApi);
  private readonly keys = inject(PresenterKeys);
  private readonly router = inject(Router);
  private readonly myRooms = inject(MyRooms);
  /** The rooms this browser created or presented, with when each was last used, in words. */
  protected readonly rooms = computed(() =>
    this.myRooms.rooms().map((room) => ({ ...room, used: lastUsed(room.lastUsed), viewerUrl: this.viewerUrl(room) })),
  );
  /** The room whose deletion waits for a confirmation. */
  protected readonly deleting = signal<string | null>(null);
  /** What this server transcribes (GET /api/capabilities); the local recogniser in English until it has said. */
  private readonly capabilities = signal<Capabilities>({
    recognizers: { local: { languages: ['en'], partials: true, vocabulary: true, name: 'This server' } },
    default: 'local',
    room_creation: 'open',
  });
  /** The server creates rooms for its organizers only: this browser needs an organizer's token. */
  protected readonly organizersOnly = computed(() => this.capabilities().room_creation === 'organizers');
  protected readonly organizerToken = signal(this.keys.organizerToken() ?? '');
  protected readonly recognizers = computed(() =>
    Object.entries(this.capabilities().recognizers).map(([id, info]) => ({ id, name: info.name })),
  );
  protected readonly recognizer = signal('local');
  protected readonly languages = computed(() =>
    (this.capabilities().recognizers[this.recognizer()]?.languages ?? [])
      .map((code) => ({ code, name: languageName(code) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  );
  protected readonly onlyLanguage = computed(() => (this.languages().length === 1 ? this.languages()[0].name : null));
  protected readonly title = signal('');
  protected readonly language = signal('en');
  protected readonly private = signal(false);
  protected readonly terms = signal('');
  protected readonly openId = signal('');
  protected readonly openKey = signal('');
  protected readonly busy = signal(false);
  protected readonly problem = signal<string | null>(null);

  async ngOnInit(): Promise<void> {
    try {
      const capabilities = await this.api.capabilities();
      if (!capabilities.recognizers[capabilities.default]?.languages.length) return;
      this.capabilities.set(capabilities);
      this.chooseRecognizer(capabilities.default);
    } catch {
      // An older server: English, as before.
    }
  }

  /** Another recogniser: keep the room's language where it speaks it (en-US for en), else its first. */
  protected chooseRecognizer(id: string): void {
    this.recognizer.set(id);
    const codes = this.capabilities().recognizers[id]?.languages ?? [];
    const wanted = this.language();
    const same = codes.find((code) => code === wanted) ?? codes.find((code) => code.split('-')[0] === wanted.split('-')[0]);
    this.language.set(same ?? codes[0] ?? 'en');
  }

  protected async create(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const title = this.title().trim();
    if (!title) {
      this.problem.set('Give the room a title.');
      return;
    }
    const organizerToken = this.organizerToken().trim();
    if (this.organizersOnly() && !organizerToken) {
      this.problem.set(describeError({ code: 'organizer_required' }));
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    try {
      const room = await this.api.create(
        {
          title,
          language: this.language(),
          private: this.private(),
          recognizer: this.recognizer(),
          vocabulary: parseTerms(this.terms()).slice(0, MAX_TERMS),
        },
        organizerToken || undefined,
      );
      if (organizerToken) this.keys.saveOrganizerToken(organizerToken);
      this.keys.save(room.id, room.presenter_key);
      if (room.viewer_token) this.keys.saveViewerToken(room.id, room.viewer_token);
      this.myRooms.remember(room.id, title);
      await this.router.navigate(['/present', room.id]);
    } catch (error) {
      const { code } = (error as { error?: { code?: string } }).error ?? {};
      if (code === 'bad_organizer_token') this.keys.saveOrganizerToken(null);
      this.problem.set(creationProblem((error as { status?: number }).status, code));
    } finally {
      this.busy.set(false);
    }
  }

  protected async open(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const access = parsePresenterAccess(this.openId());
    const key = access?.key ?? this.openKey().trim();
    if (!access || !key) {
      this.problem.set('Paste your presenter link, or enter the room id and its presenter key.');
      return;
    }
    this.keys.save(access.room, key);
    await this.router.navigate(['/present', access.room]);
  }

  /** Deleted on the server with its key (a room already gone there just leaves the list). */
  protected async delete(room: MyRoom): Promise<void> {
    this.deleting.set(null);
    const key = this.keys.get(room.id);
    try {
      if (key) await this.api.delete(room.id, key);
    } catch (error) {
      const { code } = (error as { error?: { code?: string } }).error ?? {};
      if (code !== 'unknown_room') {
        this.problem.set(`“${room.title}” was not deleted. ${code ? describeError({ code }) : 'Is the server reachable?'}`);
        return;
      }
    }
    this.keys.forget(room.id);
    this.myRooms.forget(room.id);
  }

  private viewerUrl(room: MyRoom): string {
    const token = this.keys.viewerToken(room.id);
    return `/r/${encodeURIComponent(room.id)}${token ? `#token=${encodeURIComponent(token)}` : ''}`;
  }

  protected checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
  }
}
