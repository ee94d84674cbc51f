import { DestroyRef, Injectable, InjectionToken, inject, signal } from '@angular/core';
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { CaptionTranscript } from './caption-transcript';
import type {
  Caption,
  ConnectAuth,
  Correction,
  ErrorEvent,
  Lag,
  RecognizerNotice,
  Status,
  TextCaption,
  Vocabulary,
} from './generated';
import type { Destinations } from './generated/destinations';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'refused';

/** The part of a socket.io-client Socket this service uses (tests give a fake). */
export interface SocketLike {
  readonly connected: boolean;
  readonly io: { on(event: 'reconnect_attempt' | 'reconnect_failed', listener: () => void): unknown };
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}
export type SocketFactory = (url: string, options: Partial<ManagerOptions & SocketOptions>) => SocketLike;

export const SOCKET_FACTORY = new InjectionToken<SocketFactory>('socket.io client factory', {
  providedIn: 'root',
  factory: () => (url, options) => io(url, options),
});

/**
 * Frames kept (100 ms each), sent or not: after a reconnect the server names the first frame it needs
 * (`resume_seq`: after a blip, the first it never got; after a server crash, the first it had not settled), and
 * the presenter resends from there. A 30 s outage loses no speech.
 */
export const MAX_BUFFERED_FRAMES = 300;
/** Audio frames are 100 ms. */
export const FRAMES_PER_SECOND = 10;
/** Refusals that say "not now" rather than "never": the connection is tried again, later and later. */
export const PASSING_REFUSALS: ReadonlySet<string> = new Set(['too_many_connections', 'closed']);
/** The first retry after a passing refusal, and the longest wait between two (each wait doubles, with jitter). */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_LONGEST_MS = 30_000;
/** After the server could not queue a frame (its bus was down), the kept audio goes again from it: first this
 * soon, then less often while it keeps failing. */
export const RESEND_FIRST_MS = 500;
export const RESEND_LONGEST_MS = 5_000;

interface AudioOut {
  readonly seq: number;
  readonly pcm: ArrayBuffer;
}

/**
 * The one Socket.IO connection of a page to its room. Viewers and presenters both receive captions and status;
 * a presenter also sends audio (numbered, buffered while offline and resent after a reconnect), browser-recognised
 * text, session control and corrections.
 */
@Injectable()
export class CaptionSocket {
  private readonly factory = inject(SOCKET_FACTORY);
  private socket: SocketLike | null = null;
  private auth: Omit<ConnectAuth, 'last_id'> | null = null;
  private nextSeq = 0;
  /** The session the server last named, and the seq of its first frame (for the talk's running time). */
  private session: { id: string | null; firstSeq: number } = { id: null, firstSeq: 0 };
  private kept: AudioOut[] = [];
  private refusals = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private resend: ReturnType<typeof setTimeout> | null = null;
  private resendFrom = 0;
  private resendWait = RESEND_FIRST_MS;
  /** The server has said, since this connection opened, which frame it needs: frames go out as they come. */
  private synced = false;

  private readonly _state = signal<ConnectionState>('idle');
  private readonly _status = signal<Status | null>(null);
  private readonly _error = signal<ErrorEvent | null>(null);
  private readonly _lagSeconds = signal(0);
  readonly state = this._state.asReadonly();
  readonly status = this._status.asReadonly();
  readonly error = this._error.asReadonly();
  /** How far the server's transcription of this room is behind real time (0 when it keeps up). */
  readonly lagSeconds = this._lagSeconds.asReadonly();
  private readonly _unsentFrames = signal(0);
  /** Frames captured while the connection was down, kept to be sent when it is back (at most MAX_BUFFERED_FRAMES). */
  readonly unsentFrames = this._unsentFrames.asReadonly();
  readonly transcript = new CaptionTranscript();
  private readonly _terms = signal<readonly string[]>([]);
  private readonly _learned = signal<ReadonlySet<string>>(new Set());
  /** The room's vocabulary (presenters are told it when they join and whenever it changes). */
  readonly terms = this._terms.asReadonly();
  /** Terms the server learned from this presenter's corrections (while they stay in the vocabulary). */
  readonly learned = this._learned.asReadonly();
  private readonly _recognizer = signal<RecognizerNotice | null>(null);
  /** Why the room's captions come from another recogniser than the one it asked for (a cloud failure). */
  readonly recognizerNotice = this._recognizer.asReadonly();
  private readonly _destinations = signal<Destinations | null>(null);
  /** The presenter's destinations as their states change (null until one changes while connected). */
  readonly destinations = this._destinations.asReadonly();

  constructor() {
    inject(DestroyRef).onDestroy(() => this.close());
  }

  open(auth: Omit<ConnectAuth, 'last_id'>, url = location.origin): void {
    this.close();
    this.auth = auth;
    const socket = this.factory(url, {
      autoConnect: false,
      transports: ['websocket'],
      // In the handshake URL so that a proxy can send a room's clients to one gateway (nothing depends on it).
      query: { room: auth.room },
      // Read on every (re)connection: a reconnecting client asks for what came after its last caption.
      auth: (give: (auth: ConnectAuth) => void) => give(this.currentAuth()),
    });
    socket.on('connect', () => {
      this._state.set('connected');
      this._error.set(null);
      this.refusals = 0;
      this.resendWait = RESEND_FIRST_MS;
      // Frames wait for the welcome status: it says where to resend from.
      this.synced = false;
    });
    socket.on('disconnect', (reason: string) => {
      if (reason === 'io server disconnect') {
        this._state.set('offline');
      } else if (reason !== 'io client disconnect') {
        this._state.set('reconnecting');
      }
    });
    socket.on('connect_error', (error: { message: string; data?: { code?: ErrorEvent['code'] } }) => {
      const code = error.data?.code;
      if (code) this._error.set({ code, message: error.message });
      if (code && !PASSING_REFUSALS.has(code)) {
        this._state.set('refused');
        socket.disconnect();
      } else {
        this._state.set('reconnecting');
        // A refused namespace join is not retried by socket.io itself: a busy venue's address must not be
        // shut out for good, nor every phone in it retry at once.
        if (code) this.retryLater(socket);
      }
    });
    socket.io.on('reconnect_attempt', () => this._state.set('reconnecting'));
    socket.io.on('reconnect_failed', () => this._state.set('offline'));
    socket.on('caption', (caption: Caption) => this.transcript.apply(caption));
    socket.on('status', (status: Status) => this.onStatus(status));
    socket.on('error', (error: ErrorEvent) => {
      if (error.code === 'resend' && error.resume_seq != null) this.resendLater(error.resume_seq);
      else this._error.set(error);
    });
    socket.on('lag', (lag: Lag) => this._lagSeconds.set(lag.seconds));
    socket.on('vocabulary', (vocabulary: Vocabulary) => this.onVocabulary(vocabulary));
    socket.on('recognizer', (notice: RecognizerNotice) => this._recognizer.set(notice));
    socket.on('destinations', (destinations: Destinations) => this._destinations.set(destinations));
    this.socket = socket;
    this._state.set('connecting');
    socket.connect();
  }

  /** The room's presenter key was replaced (rotation): this connection goes on with the new one. */
  rekey(key: string): void {
    if (!this.auth || !this.socket) return;
    this.auth = { ...this.auth, key };
    this.socket.disconnect();
    this._state.set('connecting');
    this.socket.connect();
  }

  /** Connect again after the server closed this connection (another device took the room over): the room is
   * presented from here again, and the other device is the one told it was replaced. */
  reconnect(): void {
    if (!this.socket) return;
    this._state.set('connecting');
    this.socket.connect();
  }

  close(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.resend !== null) clearTimeout(this.resend);
    this.retry = this.resend = null;
    this.socket?.disconnect();
    this.socket = null;
    this._state.set('idle');
  }

  /** The server asks for the audio again from frame ``from`` (it could not queue it): sent again from the kept
   * frames after a short wait, longer while it keeps asking. */
  private resendLater(from: number): void {
    this.resendFrom = from;
    if (this.resend !== null) return;
    this.resend = setTimeout(() => {
      this.resend = null;
      for (const frame of this.kept) if (frame.seq >= this.resendFrom) this.socket?.emit('audio', frame);
    }, this.resendWait);
    this.resendWait = Math.min(RESEND_LONGEST_MS, this.resendWait * 2);
  }

  private retryLater(socket: SocketLike): void {
    const longest = Math.min(RETRY_LONGEST_MS, RETRY_FIRST_MS * 2 ** this.refusals++);
    const wait = longest / 2 + (Math.random() * longest) / 2;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.socket === socket) socket.connect();
    }, wait);
  }

  /** One frame of PCM16 audio: kept for a resend, and sent now unless the connection is down. */
  sendAudio(pcm: ArrayBuffer): void {
    const frame = { seq: this.nextSeq++, pcm };
    this.kept.push(frame);
    if (this.kept.length > MAX_BUFFERED_FRAMES) this.kept.shift();
    if (this.socket?.connected && this.synced) this.socket.emit('audio', frame);
    else this._unsentFrames.update((count) => Math.min(count + 1, MAX_BUFFERED_FRAMES));
  }

  /** The session's audio time as this presenter has captured it: frames are numbered from the session's start
   * (a reloaded page continues the server's numbering), 100 ms each. */
  get capturedSeconds(): number {
    return this.session.id ? Math.max(0, this.nextSeq - this.session.firstSeq) / FRAMES_PER_SECOND : 0;
  }

  sendText(caption: TextCaption): void {
    this.socket?.emit('text', caption);
  }

  /** Replace final ``id`` (through final ``through``, when a sentence spans several) with ``text``. */
  correct(correction: Correction): void {
    this.socket?.emit('correct', correction);
  }

  control(command: 'start' | 'pause' | 'stop'): void {
    this.socket?.emit(command);
  }

  /** The room's vocabulary from now on (the whole list). */
  setVocabulary(terms: readonly string[]): void {
    this.socket?.emit('vocabulary', { terms: [...terms] });
  }

  private onVocabulary(vocabulary: Vocabulary): void {
    const terms = vocabulary.terms;
    const learned = new Set([...this._learned(), ...(vocabulary.learned ?? [])].filter((term) => terms.includes(term)));
    this._terms.set(terms);
    this._learned.set(learned);
  }

  private currentAuth(): ConnectAuth {
    const lastId = this.transcript.lastFinalId();
    return { ...this.auth!, ...(lastId ? { last_id: lastId } : {}) };
  }

  private onStatus(status: Status): void {
    this._status.set(status);
    if (status.session === 'idle' || status.session === 'ended') {
      this._lagSeconds.set(0);
      this._recognizer.set(null); // a fallback lasts one session: the next one asks for the room's recogniser
    }
    if (this.auth?.role !== 'presenter') return;
    // A presenter page that was reloaded continues the numbering the server already has.
    const lastSeq = status.last_seq ?? -1;
    if (lastSeq >= this.nextSeq) this.nextSeq = lastSeq + 1;
    if (status.session_id && status.session_id !== this.session.id) {
      const heard = Math.round((status.audio_seconds ?? 0) * FRAMES_PER_SECOND);
      const firstSeq = lastSeq >= 0 ? lastSeq + 1 - heard : Math.max(0, this.nextSeq - 1);
      this.session = { id: status.session_id, firstSeq };
    }
    if (!this.synced) {
      this.synced = true;
      this._unsentFrames.set(0);
      const from = status.resume_seq ?? lastSeq + 1;
      for (const frame of this.kept) if (frame.seq >= from) this.socket?.emit('audio', frame);
    }
  }
}
