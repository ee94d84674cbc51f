import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CaptionSocket, MAX_BUFFERED_FRAMES, RETRY_LONGEST_MS, SOCKET_FACTORY, type SocketLike } from './caption-socket';
import type { Caption, ConnectAuth } from './generated';

class FakeSocket implements SocketLike {
  connected = false;
  readonly emitted: [string, ...unknown[]][] = [];
  private readonly handlers = new Map<string, ((...args: any[]) => void)[]>();
  private readonly managerHandlers = new Map<string, (() => void)[]>();
  readonly io = {
    on: (event: string, listener: () => void) => this.managerHandlers.set(event, [...(this.managerHandlers.get(event) ?? []), listener]),
  };

  constructor(readonly options: { auth: (give: (auth: ConnectAuth) => void) => void; query?: Record<string, string> }) {}

  on(event: string, listener: (...args: any[]) => void): void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
  }
  emit(event: string, ...args: unknown[]): void {
    this.emitted.push([event, ...args]);
  }
  connects = 0;
  connect(): void {
    this.connects++;
  }
  disconnect(): void {
    this.connected = false;
  }
  server(event: string, ...args: unknown[]): void {
    if (event === 'connect') this.connected = true;
    if (event === 'disconnect') this.connected = false;
    for (const listener of this.handlers.get(event) ?? []) listener(...args);
  }
  authNow(): ConnectAuth {
    let auth: ConnectAuth | undefined;
    this.options.auth((given) => (auth = given));
    return auth!;
  }
}

function caption(id: string, kind: Caption['kind'], text: string): Caption {
  return { id, kind, text, start: 0, end: 1, session_id: 's1' };
}

describe('CaptionSocket', () => {
  let sockets: FakeSocket[];
  let service: CaptionSocket;

  beforeEach(() => {
    sockets = [];
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        CaptionSocket,
        { provide: SOCKET_FACTORY, useValue: (_url: string, options: any) => sockets[sockets.push(new FakeSocket(options)) - 1] },
      ],
    });
    service = TestBed.inject(CaptionSocket);
  });

  describe('refused at the join', () => {
    afterEach(() => vi.useRealTimers());

    it('tries again later, and later, when the refusal passes (a busy address)', () => {
      vi.useFakeTimers();
      service.open({ room: 'room1', role: 'viewer' });
      const socket = sockets[0];
      expect(socket.connects).toBe(1);
      for (let attempt = 0; attempt < 8; attempt++) {
        socket.server('connect_error', { message: 'too many connections', data: { code: 'too_many_connections' } });
        expect(service.state()).toBe('reconnecting');
        expect(service.error()?.code).toBe('too_many_connections');
        vi.advanceTimersByTime(RETRY_LONGEST_MS);
        expect(socket.connects).toBe(attempt + 2);
      }
      socket.server('connect');
      expect(service.state()).toBe('connected');
      expect(service.error()).toBeNull();
    });

    it('waits longer after each refusal, up to a limit, never all clients at once', () => {
      vi.useFakeTimers();
      service.open({ room: 'room1', role: 'viewer' });
      const socket = sockets[0];
      socket.server('connect_error', { message: 'busy', data: { code: 'too_many_connections' } });
      vi.advanceTimersByTime(499);
      expect(socket.connects).toBe(1); // at least half the first wait (1 s)
      vi.advanceTimersByTime(501);
      expect(socket.connects).toBe(2);
      socket.server('connect_error', { message: 'busy', data: { code: 'too_many_connections' } });
      vi.advanceTimersByTime(999);
      expect(socket.connects).toBe(2); // the second wait is at least 1 s (half of 2 s)
    });

    it('gives up for good when the refusal is final (a wrong key)', () => {
      vi.useFakeTimers();
      service.open({ room: 'room1', role: 'presenter', key: 'wrong' });
      const socket = sockets[0];
      socket.server('connect_error', { message: 'the presenter key of this room is wrong', data: { code: 'bad_key' } });
      expect(service.state()).toBe('refused');
      vi.advanceTimersByTime(10 * RETRY_LONGEST_MS);
      expect(socket.connects).toBe(1);
    });

    it('stops trying once the page closes the connection', () => {
      vi.useFakeTimers();
      service.open({ room: 'room1', role: 'viewer' });
      const socket = sockets[0];
      socket.server('connect_error', { message: 'busy', data: { code: 'too_many_connections' } });
      service.close();
      vi.advanceTimersByTime(10 * RETRY_LONGEST_MS);
      expect(socket.connects).toBe(1);
    });
  });

  it('reconnects asking for what came after the last final it saw', () => {
    service.open({ room: 'room1', role: 'viewer' });
    const socket = sockets[0];
    expect(socket.authNow()).toEqual({ room: 'room1', role: 'viewer' });
    expect(socket.options.query).toEqual({ room: 'room1' }); // a proxy may route the room's clients by it
    socket.server('connect');
    socket.server('caption', caption('s1:0', 'final', 'Ask not'));
    socket.server('caption', caption('s1:1', 'partial', 'what your'));
    socket.server('disconnect', 'transport close');
    expect(service.state()).toBe('reconnecting');
    expect(socket.authNow()).toEqual({ room: 'room1', role: 'viewer', last_id: 's1:0' });
  });

  it('tells how far transcription is behind until it has caught up or the session ends', () => {
    service.open({ room: 'room1', role: 'presenter', key: 'k' });
    const socket = sockets[0];
    expect(service.lagSeconds()).toBe(0);
    socket.server('lag', { room: 'room1', seconds: 3.5 });
    expect(service.lagSeconds()).toBe(3.5);
    socket.server('lag', { room: 'room1', seconds: 0 });
    expect(service.lagSeconds()).toBe(0);
    socket.server('lag', { room: 'room1', seconds: 2 });
    socket.server('status', { room: 'room1', session: 'ended', presenter_connected: true, viewers: 0, last_seq: -1 });
    expect(service.lagSeconds()).toBe(0);
  });

  it('keeps each final once through catch-up, and lets a final replace its partial', () => {
    service.open({ room: 'room1', role: 'viewer' });
    const socket = sockets[0];
    socket.server('caption', caption('s1:0', 'partial', 'ask'));
    socket.server('caption', caption('s1:0', 'final', 'Ask not.'));
    socket.server('caption', caption('s1:0', 'final', 'Ask not.'));
    socket.server('caption', caption('s1:0', 'partial', 'stale'));
    socket.server('caption', caption('s1:1', 'final', 'What your country'));
    socket.server('caption', caption('s1:0', 'correction', 'Ask not!'));
    expect(service.transcript.finals().map((l) => [l.id, l.text, l.corrected])).toEqual([
      ['s1:0', 'Ask not!', true],
      ['s1:1', 'What your country', false],
    ]);
    expect(service.transcript.partial()).toBeNull();
  });

  it('applies one correction of a sentence over several finals: the first reads it all, the rest empty', () => {
    service.open({ room: 'room1', role: 'viewer' });
    const socket = sockets[0];
    for (const [id, text] of [['s1:0', 'Unless a system'], ['s1:1', 'is established.'], ['s1:2', 'For the'], ['s1:3', 'review.']]) {
      socket.server('caption', caption(id, 'final', text));
    }
    socket.server('caption', { ...caption('s1:0', 'correction', 'Unless a system is established for the'), through: 's1:2' });
    expect(service.transcript.finals().map((l) => [l.id, l.text, l.corrected])).toEqual([
      ['s1:0', 'Unless a system is established for the', true],
      ['s1:1', '', true],
      ['s1:2', '', true],
      ['s1:3', 'review.', false],
    ]);
  });

  it('sends the kept audio again from the frame the server could not queue, waiting longer while it fails', () => {
    vi.useFakeTimers();
    try {
      service.open({ room: 'room1', role: 'presenter', key: 'k' });
      const socket = sockets[0];
      socket.server('connect');
      socket.server('status', status(-1, 0));
      for (let n = 0; n < 10; n++) service.sendAudio(new ArrayBuffer(3200));
      socket.emitted.length = 0;
      const resend = { code: 'resend', message: 'send again', resume_seq: 6 };
      socket.server('error', resend);
      socket.server('error', resend); // the frames after it were refused too: one resend for all
      expect(service.error()).toBeNull(); // nothing for the presenter to do
      vi.advanceTimersByTime(499);
      expect(audioSeqs(socket)).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(audioSeqs(socket)).toEqual([6, 7, 8, 9]);
      socket.server('error', resend); // still down
      vi.advanceTimersByTime(999);
      expect(audioSeqs(socket)).toEqual([6, 7, 8, 9]);
      vi.advanceTimersByTime(1);
      expect(audioSeqs(socket)).toEqual([6, 7, 8, 9, 6, 7, 8, 9]);
    } finally {
      vi.useRealTimers();
    }
  });

  function audioSeqs(socket: FakeSocket): number[] {
    return socket.emitted.filter(([event]) => event === 'audio').map(([, frame]) => (frame as { seq: number }).seq);
  }

  function status(lastSeq: number, resumeSeq: number): object {
    return { room: 'room1', session: 'live', presenter_connected: true, viewers: 0, last_seq: lastSeq, resume_seq: resumeSeq };
  }

  it('keeps audio while offline, bounded, and resends it in order once the server says where from', () => {
    service.open({ room: 'room1', role: 'presenter', key: 'k' });
    const socket = sockets[0];
    for (let i = 0; i < MAX_BUFFERED_FRAMES + 5; i++) service.sendAudio(new ArrayBuffer(2));
    expect(service.unsentFrames()).toBe(MAX_BUFFERED_FRAMES);
    socket.server('connect');
    expect(audioSeqs(socket)).toEqual([]);
    socket.server('status', status(-1, 0));
    const seqs = audioSeqs(socket);
    expect(seqs[0]).toBe(5);
    expect(seqs.at(-1)).toBe(MAX_BUFFERED_FRAMES + 4);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(service.unsentFrames()).toBe(0);
    service.sendAudio(new ArrayBuffer(2));
    expect(socket.emitted.at(-1)).toEqual(['audio', { seq: MAX_BUFFERED_FRAMES + 5, pcm: expect.any(ArrayBuffer) }]);
  });

  it('knows the talk\'s audio time from the frames it captured, also after a reload', () => {
    service.open({ room: 'room1', role: 'presenter', key: 'k' });
    sockets[0].server('connect');
    sockets[0].server('status', { ...status(-1, 0), session_id: 'a', audio_seconds: 0 });
    for (let i = 0; i < 25; i++) service.sendAudio(new ArrayBuffer(2));
    expect(service.capturedSeconds).toBe(2.5);

    service.open({ room: 'room1', role: 'presenter', key: 'k' }); // the server has more frames than counted here
    sockets[1].server('connect');
    sockets[1].server('status', { ...status(99, 100), session_id: 'a', audio_seconds: 10 });
    for (let i = 0; i < 10; i++) service.sendAudio(new ArrayBuffer(2));
    expect(service.capturedSeconds).toBe(11);
  });

  it('resends what a restarted server had not settled, from the resume_seq it names', () => {
    service.open({ room: 'room1', role: 'presenter', key: 'k' });
    const socket = sockets[0];
    socket.server('connect');
    socket.server('status', status(-1, 0));
    for (let i = 0; i < 50; i++) service.sendAudio(new ArrayBuffer(2));
    expect(audioSeqs(socket)).toEqual([...Array(50).keys()]);
    socket.server('disconnect', 'transport close');
    for (let i = 0; i < 10; i++) service.sendAudio(new ArrayBuffer(2));
    socket.emitted.length = 0;
    socket.server('connect');
    socket.server('status', status(29, 30)); // the server lost frames 30-49 with its memory
    expect(audioSeqs(socket)).toEqual([...Array(30).keys()].map((i) => i + 30));
    socket.server('status', status(59, 60)); // later statuses resend nothing
    expect(audioSeqs(socket)).toHaveLength(30);
  });

  it('continues the numbering of a session the server already has', () => {
    service.open({ room: 'room1', role: 'presenter', key: 'k' });
    const socket = sockets[0];
    socket.server('connect');
    socket.server('status', { room: 'room1', session: 'live', presenter_connected: true, viewers: 0, last_seq: 41 });
    service.sendAudio(new ArrayBuffer(2));
    expect(socket.emitted.at(-1)?.[1]).toMatchObject({ seq: 42 });
  });

  it('reports a refused connection with its code and stops retrying', () => {
    service.open({ room: 'nope', role: 'viewer' });
    sockets[0].server('connect_error', { message: 'there is no room', data: { code: 'unknown_room' } });
    expect(service.state()).toBe('refused');
    expect(service.error()).toEqual({ code: 'unknown_room', message: 'there is no room' });
  });
});
