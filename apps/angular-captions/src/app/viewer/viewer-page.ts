import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  ElementRef,
  OnInit,
  afterRenderEffect,
  computed,
  effect,
  inject,
  input,
  linkedSignal,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import { CaptionSocket } from '../core/caption-socket';
import { describeError } from '../core/error-sentences';
import { RoomsApi, type TranscriptFormat } from '../core/rooms-api';
import { ConnectionBadge } from '../shared/connection-badge';
import { lastSentence, paragraphs, type Sentence } from './paragraphs';
import { THEME_LABELS, THEMES, ViewerSettings, type ViewerTheme } from './viewer-settings';

/** How close to the bottom (px) still counts as reading live. */
const LIVE_MARGIN = 48;
/** Captions at least this late (seconds) tell the reader. */
export const LATE_S = 2;
export const PRESENTER_AWAY = 'The presenter is reconnecting — captions will continue.';

/** The first of ``lines`` (in reading order) whose bottom is below ``top``: a binary search, since a long talk's
 * thousands of captions must not each be measured on every scroll event. */
function firstBelow(lines: readonly HTMLElement[], top: number): HTMLElement | undefined {
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (lines[middle].getBoundingClientRect().bottom > top) high = middle;
    else low = middle + 1;
  }
  return lines[low];
}

interface WakeLockSentinelLike {
  release(): Promise<void>;
}

/** The phone-first reader: large captions, the live line at the bottom, the whole session above it. */
@Component({
  selector: 'app-viewer-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ConnectionBadge],
  providers: [CaptionSocket],
  host: { '[class]': '"theme-" + settings.theme()', '[style.--caption-size.px]': 'settings.fontSize()' },
  templateUrl: './viewer-page.html',
  styleUrl: './viewer-page.css',
})
export class ViewerPage implements OnInit {
  readonly room = input.required<string>();

  protected readonly socket = inject(CaptionSocket);
  protected readonly settings = inject(ViewerSettings);
  private readonly api = inject(RoomsApi);
  protected readonly themes = THEMES;
  protected readonly themeLabels = THEME_LABELS;
  protected readonly formats: readonly TranscriptFormat[] = ['txt', 'vtt', 'srt'];
  protected readonly title = signal('');
  /** What this room tells its audience about the captions (the default: that they are automatic). */
  protected readonly notice = signal('');
  protected readonly following = signal(true);
  protected readonly showSettings = signal(false);
  private readonly scroller = viewChild<ElementRef<HTMLElement>>('scroller');
  /** The first caption in view when the reader last scrolled, and how far below the top it was. */
  private anchor: { readonly id: string; readonly offset: number } | null = null;
  private wakeLock: WakeLockSentinelLike | null = null;
  /** A private room's viewer token, from the link's #fragment (never sent to a server by the browser). */
  private readonly token = new URLSearchParams(location.hash.slice(1)).get('token');

  protected readonly paragraphs = computed(() => paragraphs(this.socket.transcript.finals()));
  /** What a screen reader announces: each sentence once it is complete (the words of an unfinished one when the
   * talk pauses, ends or loses its presenter), never the recogniser's fragments or partials. */
  protected readonly spoken = linkedSignal<Sentence | null, readonly Sentence[]>({
    source: () => {
      const status = this.socket.status();
      const flowing = status?.session === 'live' && status.presenter_connected;
      return lastSentence(this.socket.transcript.finals(), !flowing);
    },
    // The words said before a pause, announced then, are not followed by the sentence before them again.
    computation: (sentence, previous) => {
      const before = previous?.value[0];
      if (!sentence || (before && (sentence.index < before.index || (sentence.id === before.id && sentence.text === before.text)))) {
        return previous?.value ?? [];
      }
      return [sentence];
    },
  });
  protected readonly waiting = computed(
    () => this.socket.transcript.finals().length === 0 && !this.socket.transcript.partial(),
  );
  protected readonly refused = computed(() => {
    if (this.socket.state() !== 'refused') return null;
    const error = this.socket.error();
    return error ? describeError(error) : null;
  });
  /** What the talk is doing, announced when it changes (not only the captions). */
  protected readonly talkState = computed(() => {
    const status = this.socket.status();
    switch (status?.session) {
      case 'live':
        // Gone without Pause or Stop (a dropped connection, a closed tab): the silence is not the talk's.
        return status.presenter_connected ? 'Live' : PRESENTER_AWAY;
      case 'paused':
        return 'Paused — captions continue when the talk resumes.';
      case 'stopping':
      case 'ended':
        return 'The talk has ended — download the transcript below.';
      default:
        return '';
    }
  });
  /** The talk's state as a word for the page's style: live, paused, away (no presenter) or ended. */
  protected readonly talkStateKind = computed(() => {
    const status = this.socket.status();
    switch (status?.session) {
      case 'live':
        return status.presenter_connected ? 'live' : 'away';
      case 'paused':
        return 'paused';
      case 'stopping':
      case 'ended':
        return 'ended';
      default:
        return null;
    }
  });
  protected readonly ended = computed(() => ['stopping', 'ended'].includes(this.socket.status()?.session ?? ''));
  /** Captions arriving late say so (they all arrive: the server catches up). */
  protected readonly behind = computed(() => {
    const seconds = this.socket.lagSeconds();
    return seconds >= LATE_S && this.socket.status()?.session === 'live' ? `Captions ${Math.round(seconds)} s behind` : '';
  });

  constructor() {
    afterRenderEffect(() => {
      this.socket.transcript.finals();
      this.socket.transcript.partial();
      this.settings.fontSize(); // larger text pushes the newest line down: a live reader stays with it
      const element = this.scroller()?.nativeElement;
      if (element && this.following()) element.scrollTop = element.scrollHeight;
    });
    // A reader who scrolled back keeps their place when the text size changes: the caption at the top stays.
    afterRenderEffect(() => {
      this.settings.fontSize();
      const element = this.scroller()?.nativeElement;
      const anchor = this.anchor;
      if (!element || untracked(this.following) || !anchor) return;
      const line = element.querySelector(`[data-id="${CSS.escape(anchor.id)}"]`);
      if (line) element.scrollTop += line.getBoundingClientRect().top - element.getBoundingClientRect().top - anchor.offset;
    });
    // Keep the phone's screen on while captions are coming.
    effect(() => {
      if (this.socket.state() === 'connected') void this.holdScreen();
    });
    const onVisible = () => {
      if (document.visibilityState === 'visible' && this.socket.state() === 'connected') void this.holdScreen();
    };
    document.addEventListener('visibilitychange', onVisible);
    inject(DestroyRef).onDestroy(() => {
      document.removeEventListener('visibilitychange', onVisible);
      void this.wakeLock?.release();
    });
  }

  async ngOnInit(): Promise<void> {
    // The whole session so far (a room without one has no transcript to ask for), then live captions from the
    // last of those on (the socket asks for what follows).
    const access = { token: this.token };
    const info = await this.api.info(this.room(), access).catch(() => null);
    this.title.set(info?.title ?? 'Live captions');
    this.notice.set(info?.notice ?? '');
    if (info?.has_transcript !== false) {
      for (const caption of await this.api.latestFinals(this.room(), access)) this.socket.transcript.apply(caption);
    }
    this.socket.open({ room: this.room(), role: 'viewer', ...(this.token ? { token: this.token } : {}) });
  }

  protected onScroll(element: HTMLElement): void {
    this.following.set(element.scrollHeight - element.scrollTop - element.clientHeight < LIVE_MARGIN);
    const top = element.getBoundingClientRect().top;
    const first = firstBelow([...element.querySelectorAll<HTMLElement>('.final')].filter((line) => line.textContent?.trim()), top);
    this.anchor = first?.dataset['id'] ? { id: first.dataset['id'], offset: first.getBoundingClientRect().top - top } : null;
  }

  protected jumpToLive(): void {
    this.following.set(true);
    const element = this.scroller()?.nativeElement;
    element?.scrollTo({ top: element.scrollHeight, behavior: 'smooth' });
  }

  protected setTheme(theme: ViewerTheme): void {
    this.settings.theme.set(theme);
  }

  protected transcriptUrl(format: TranscriptFormat): string {
    return this.api.transcriptUrl(this.room(), format);
  }

  /** A private room's transcript needs its token, which a plain link cannot send. */
  protected async download(event: Event, format: TranscriptFormat): Promise<void> {
    if (!this.token) return;
    event.preventDefault();
    await this.api.download(this.transcriptUrl(format), { token: this.token });
  }

  private async holdScreen(): Promise<void> {
    const wakeLock = (navigator as { wakeLock?: { request(type: 'screen'): Promise<WakeLockSentinelLike> } }).wakeLock;
    if (!wakeLock || this.wakeLock) return;
    try {
      this.wakeLock = await wakeLock.request('screen');
    } catch {
      this.wakeLock = null; // denied (battery saver, hidden page): captions work all the same
    }
  }
}
