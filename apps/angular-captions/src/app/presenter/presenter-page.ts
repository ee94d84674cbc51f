import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  OnInit,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import { BrowserSpeech } from '../core/browser-speech';
import { CaptionSocket, FRAMES_PER_SECOND, MAX_BUFFERED_FRAMES } from '../core/caption-socket';
import { Microphone } from '../core/microphone';
import { MyRooms } from '../core/my-rooms';
import { describeError } from '../core/error-sentences';
import { PresenterKeys } from '../core/presenter-keys';
import type { RoomRotate } from '../core/generated';
import { RoomsApi } from '../core/rooms-api';
import { ConnectionBadge } from '../shared/connection-badge';
import { CaptionPreview, type CorrectionRequest } from './caption-preview';
import { LevelMeter } from './level-meter';
import { SharePanel } from './share-panel';
import { DestinationsPanel } from './destinations-panel';
import { VocabularyPanel } from './vocabulary-panel';

export type CaptureMode = 'audio' | 'browser';

const SESSION_LABELS: Record<string, string> = {
  idle: 'Not started',
  live: 'Live',
  paused: 'Paused',
  stopping: 'Finishing…',
  ended: 'Ended',
};

const SHORTCUTS: Record<string, 'start' | 'pause' | 'stop'> = { KeyS: 'start', KeyP: 'pause', KeyX: 'stop' };

export interface SessionSummary {
  readonly duration: string;
  readonly words: number;
  readonly downloads: readonly { readonly label: string; readonly href: string }[];
}

function clock(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const minutes = Math.floor(seconds / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return minutes >= 60 ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** The presenter console of a room: microphone, session control, live preview with corrections, sharing. */
@Component({
  selector: 'app-presenter-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [CaptionPreview, ConnectionBadge, LevelMeter, RouterLink, SharePanel, VocabularyPanel, DestinationsPanel],
  providers: [CaptionSocket, Microphone, BrowserSpeech],
  host: { '(document:keydown)': 'onKey($event)' },
  templateUrl: './presenter-page.html',
  styleUrl: './presenter-page.css',
})
export class PresenterPage implements OnInit {
  readonly room = input.required<string>();

  protected readonly socket = inject(CaptionSocket);
  protected readonly microphone = inject(Microphone);
  protected readonly speech = inject(BrowserSpeech);
  private readonly keys = inject(PresenterKeys);
  private readonly myRooms = inject(MyRooms);
  private readonly api = inject(RoomsApi);

  protected readonly title = signal('');
  protected readonly language = signal('en');
  protected readonly hasKey = signal(true);
  protected readonly key = signal<string | null>(null);
  private sending = false;
  protected readonly viewerToken = signal<string | null>(null);
  protected readonly replaced = signal('');
  protected readonly mode = signal<CaptureMode>('audio');
  protected readonly deviceId = signal<string | null>(null);
  protected readonly capturing = signal(false);
  private readonly now = signal(Date.now());
  private readonly sessionStartedAt = signal<{ id: string; at: number } | null>(null);

  protected readonly session = computed(() => this.socket.status()?.session ?? 'idle');
  protected readonly sessionLabel = computed(() => SESSION_LABELS[this.session()] ?? this.session());
  protected readonly viewers = computed(() => this.socket.status()?.viewers ?? 0);
  protected readonly canStop = computed(() => this.capturing() || this.session() === 'live' || this.session() === 'paused');
  /** The talk's running time: its audio time (it survives reloads and restarts); browser text has none. */
  protected readonly elapsed = computed(() => {
    this.now(); // captured audio grows between statuses: read it every second
    const audio = Math.max(this.socket.status()?.audio_seconds ?? 0, this.mode() === 'audio' ? this.socket.capturedSeconds : 0);
    if (audio > 0) return clock(audio);
    const started = this.sessionStartedAt();
    if (!started || this.session() === 'idle') return '0:00';
    return clock((this.now() - started.at) / 1000);
  });
  /** After Stop, once the last words are stored: what the talk was, and its transcript. */
  protected readonly summary = computed<SessionSummary | null>(() => {
    const status = this.socket.status();
    if (status?.session !== 'ended' || !status.session_id) return null;
    const base = `/api/rooms/${encodeURIComponent(this.room())}/sessions/${encodeURIComponent(status.session_id)}/transcript`;
    const words = this.socket.transcript
      .finals()
      .filter((line) => line.sessionId === status.session_id)
      .reduce((count, line) => count + line.text.split(/\s+/).filter(Boolean).length, 0);
    return {
      duration: this.elapsed(),
      words,
      downloads: [
        { label: 'Subtitles (WebVTT)', href: `${base}.vtt` },
        { label: 'Subtitles (SRT)', href: `${base}.srt` },
        { label: 'Text', href: `${base}.txt` },
      ],
    };
  });
  /** Transcription behind real time: viewers read late; nothing is lost, partials are skipped meanwhile. Only
   * a connected server can say so: while it is unreachable, ``offline`` says what is happening instead. */
  protected readonly behind = computed(() => {
    const seconds = this.socket.lagSeconds();
    if (this.socket.state() !== 'connected') return '';
    return seconds >= 1 ? `Captions are ${seconds.toFixed(1)} s behind: the server is catching up (nothing is lost).` : '';
  });
  /** The connection is down: speech is kept (up to MAX_BUFFERED_FRAMES) and sent when it is back. */
  protected readonly offline = computed(() => {
    const state = this.socket.state();
    if ((state !== 'reconnecting' && state !== 'offline') || this.replacedElsewhere()) return '';
    if (!this.capturing()) return 'Offline — reconnecting…';
    const frames = this.socket.unsentFrames();
    const kept = Math.round(frames / FRAMES_PER_SECOND);
    const full = frames >= MAX_BUFFERED_FRAMES ? ` (only the last ${MAX_BUFFERED_FRAMES / FRAMES_PER_SECOND} s are kept)` : '';
    return `Offline — ${kept} s of speech kept, sent when the connection is back${full}.`;
  });
  /** The cloud recogniser failed mid-talk (or is not available): the local model carries the talk on. */
  protected readonly fallback = computed(() => {
    const notice = this.socket.recognizerNotice();
    return notice ? `Captions now come from this server's own model: ${notice.reason}.` : '';
  });
  /** The link that opens this console on another device: the key rides in the #fragment, which browsers never
   * send to a server. */
  protected readonly presenterLink = computed(() => {
    const key = this.key();
    return key ? `${location.origin}/present/${encodeURIComponent(this.room())}#key=${encodeURIComponent(key)}` : '';
  });
  /** The key was used on another device or tab, which presents the room now: this console says so (and stops
   * capturing) instead of trying to reconnect, and offers to take the room back. */
  protected readonly replacedElsewhere = computed(() => this.socket.error()?.code === 'presenter_replaced');
  protected readonly replacedNotice = describeError({ code: 'presenter_replaced' });
  protected readonly problem = computed(() => {
    const error = this.socket.error();
    if (this.replacedElsewhere()) return '';
    if (error) return describeError(error);
    return this.mode() === 'audio' ? this.microphone.problem() : this.speech.problem();
  });

  constructor() {
    const timer = setInterval(() => {
      this.now.set(Date.now());
      this.trackSession();
    }, 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
    // Two devices capturing one talk would interleave their audio: the replaced one lets go of its microphone.
    effect(() => {
      if (this.replacedElsewhere() && untracked(this.capturing)) void this.release();
    });
  }

  async ngOnInit(): Promise<void> {
    this.takeKeyFromLink();
    const key = this.keys.get(this.room());
    this.key.set(key);
    this.hasKey.set(key !== null);
    if (key === null) return;
    this.viewerToken.set(this.keys.viewerToken(this.room()));
    const info = await this.api.info(this.room(), { key }).catch(() => null);
    this.title.set(info?.title ?? this.room());
    if (info) {
      this.language.set(info.language);
      this.myRooms.remember(this.room(), info.title);
    }
    if (info?.has_transcript !== false) {
      for (const caption of await this.api.latestFinals(this.room(), { key })) this.socket.transcript.apply(caption);
    }
    this.socket.open({ room: this.room(), role: 'presenter', key });
    void this.microphone.refreshDevices();
  }

  /** Transcripts of a private room need the key: every download goes with it (a plain link could not). */
  protected async download(event: Event, href: string): Promise<void> {
    event.preventDefault();
    await this.api.download(href, { key: this.keys.get(this.room()) });
  }

  /** A leaked link replaced: this browser keeps the new secrets and its console goes on with the new key. */
  protected async rotate(what: RoomRotate): Promise<void> {
    const key = this.key();
    if (!key) return;
    try {
      const rotated = await this.api.rotate(this.room(), key, what);
      if (rotated.presenter_key) {
        this.keys.save(this.room(), rotated.presenter_key);
        this.key.set(rotated.presenter_key);
        this.socket.rekey(rotated.presenter_key);
      }
      if (rotated.viewer_token) {
        this.keys.saveViewerToken(this.room(), rotated.viewer_token);
        this.viewerToken.set(rotated.viewer_token);
      }
      this.replaced.set(rotated.viewer_token ? 'New viewer link made: share it again.' : 'New presenter link made: keep it.');
    } catch {
      this.replaced.set('The link could not be replaced. Is the server reachable?');
    }
  }

  /** Take the room back from the device that replaced this one (which is told so in turn). */
  protected presentHere(): void {
    this.socket.reconnect();
  }

  protected async start(): Promise<void> {
    this.sending = true;
    if (this.mode() === 'audio') {
      const started = await this.microphone.start(this.deviceId(), (pcm) => this.sending && this.socket.sendAudio(pcm));
      if (!started) return;
    } else {
      this.speech.start(this.language(), (kind, text) => this.sending && this.socket.sendText({ kind, text }));
    }
    this.socket.control('start');
    this.capturing.set(true);
  }

  protected async pause(): Promise<void> {
    await this.release();
    this.socket.control('pause');
  }

  protected async stop(): Promise<void> {
    await this.release();
    this.socket.control('stop');
  }

  protected selectDevice(event: Event): void {
    this.deviceId.set((event.target as HTMLSelectElement).value || null);
  }

  protected selectMode(mode: CaptureMode): void {
    if (!this.capturing()) this.mode.set(mode);
  }

  protected correct(request: CorrectionRequest): void {
    this.socket.correct(request);
  }

  protected setVocabulary(terms: string[]): void {
    this.socket.setVocabulary(terms);
  }

  private async release(): Promise<void> {
    // Audio still in the worklet (or a late recognition result) must not reach the server after Pause or Stop:
    // a frame for a paused session resumes it.
    this.sending = false;
    this.capturing.set(false);
    this.speech.stop();
    await this.microphone.stop();
  }

  /** Keyboard shortcuts (also shown on the buttons): Alt+S start or resume, Alt+P pause, Alt+X stop. */
  protected onKey(event: KeyboardEvent): void {
    if (!event.altKey || event.ctrlKey || event.metaKey || !this.hasKey()) return;
    const action = SHORTCUTS[event.code];
    if (!action) return;
    event.preventDefault();
    if (action === 'start' && !this.capturing() && this.socket.state() !== 'refused') void this.start();
    else if (action === 'pause' && this.capturing()) void this.pause();
    else if (action === 'stop' && this.canStop()) void this.stop();
  }

  /** A presenter link (``/present/ID#key=KEY``) opened here: keep its key in this browser, and take it out of
   * the address bar (a shared screen would show it). */
  private takeKeyFromLink(): void {
    const key = new URLSearchParams(location.hash.slice(1)).get('key');
    if (!key) return;
    this.keys.save(this.room(), key);
    history.replaceState(history.state, '', location.pathname + location.search);
  }

  private trackSession(): void {
    const status = this.socket.status();
    const id = status?.session_id ?? null;
    if (id && this.sessionStartedAt()?.id !== id) this.sessionStartedAt.set({ id, at: Date.now() });
  }
}
