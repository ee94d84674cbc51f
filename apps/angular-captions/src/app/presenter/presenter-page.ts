import { ChangeDetectionStrategy, Component, DestroyRef, OnInit, computed, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { BrowserSpeech } from '../core/browser-speech';
import { CaptionSocket } from '../core/caption-socket';
import { Microphone } from '../core/microphone';
import { PresenterKeys } from '../core/presenter-keys';
import { RoomsApi } from '../core/rooms-api';
import { ConnectionBadge } from '../shared/connection-badge';
import { CaptionPreview, type CorrectionRequest } from './caption-preview';
import { LevelMeter } from './level-meter';
import { SharePanel } from './share-panel';

export type CaptureMode = 'audio' | 'browser';

const SESSION_LABELS: Record<string, string> = {
  idle: 'Not started',
  live: 'Live',
  paused: 'Paused',
  stopping: 'Finishing…',
  ended: 'Ended',
};

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
  imports: [CaptionPreview, ConnectionBadge, LevelMeter, RouterLink, SharePanel],
  providers: [CaptionSocket, Microphone, BrowserSpeech],
  templateUrl: './presenter-page.html',
  styleUrl: './presenter-page.css',
})
export class PresenterPage implements OnInit {
  readonly room = input.required<string>();

  protected readonly socket = inject(CaptionSocket);
  protected readonly microphone = inject(Microphone);
  protected readonly speech = inject(BrowserSpeech);
  private readonly keys = inject(PresenterKeys);
  private readonly api = inject(RoomsApi);

  protected readonly title = signal('');
  protected readonly language = signal('en');
  protected readonly hasKey = signal(true);
  protected readonly viewerToken = signal<string | null>(null);
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
    const audio = this.socket.status()?.audio_seconds ?? 0;
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
  /** Transcription behind real time: viewers read late; nothing is lost, partials are skipped meanwhile. */
  protected readonly behind = computed(() => {
    const seconds = this.socket.lagSeconds();
    return seconds >= 1 ? `Captions are ${seconds.toFixed(1)} s behind: the server is catching up (nothing is lost).` : '';
  });
  protected readonly problem = computed(() => {
    const error = this.socket.error();
    if (error) return error.code === 'bad_key' ? 'This presenter key is not the key of this room.' : error.message;
    return this.mode() === 'audio' ? this.microphone.problem() : this.speech.problem();
  });

  constructor() {
    const timer = setInterval(() => {
      this.now.set(Date.now());
      this.trackSession();
    }, 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  async ngOnInit(): Promise<void> {
    const key = this.keys.get(this.room());
    this.hasKey.set(key !== null);
    if (key === null) return;
    this.viewerToken.set(this.keys.viewerToken(this.room()));
    for (const caption of await this.api.latestFinals(this.room(), { key })) this.socket.transcript.apply(caption);
    this.socket.open({ room: this.room(), role: 'presenter', key });
    void this.microphone.refreshDevices();
    try {
      const info = await this.api.info(this.room(), { key });
      this.title.set(info.title);
      this.language.set(info.language);
    } catch {
      this.title.set(this.room());
    }
  }

  /** Transcripts of a private room need the key: every download goes with it (a plain link could not). */
  protected async download(event: Event, href: string): Promise<void> {
    event.preventDefault();
    await this.api.download(href, { key: this.keys.get(this.room()) });
  }

  protected async start(): Promise<void> {
    if (this.mode() === 'audio') {
      const started = await this.microphone.start(this.deviceId(), (pcm) => this.socket.sendAudio(pcm));
      if (!started) return;
    } else {
      this.speech.start(this.language(), (kind, text) => this.socket.sendText({ kind, text }));
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
    this.socket.correct(request.id, request.text);
  }

  private async release(): Promise<void> {
    this.capturing.set(false);
    this.speech.stop();
    await this.microphone.stop();
  }

  private trackSession(): void {
    const status = this.socket.status();
    const id = status?.session_id ?? null;
    if (id && this.sessionStartedAt()?.id !== id) this.sessionStartedAt.set({ id, at: Date.now() });
  }
}
