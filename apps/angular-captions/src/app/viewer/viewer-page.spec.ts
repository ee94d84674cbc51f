import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { SOCKET_FACTORY } from '../core/caption-socket';
import { socketStub, type SocketStub } from '../core/socket-stub';
import { ViewerPage } from './viewer-page';

/** Let the page's awaited HTTP responses and follow-up work run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ViewerPage', () => {
  let handlers: SocketStub['handlers'];

  beforeEach(() => {
    localStorage.clear();
    const stub = socketStub();
    handlers = stub.handlers;
    const fake = stub.socket;
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: SOCKET_FACTORY, useValue: () => fake },
      ],
    });
  });

  /** The page on a room with no captions yet, its info answered. */
  async function openRoom(info: object) {
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const http = TestBed.inject(HttpTestingController);
    http.expectOne('/api/rooms/room1').flush({ has_transcript: true, ...info });
    await settle();
    http.expectOne('/api/rooms/room1/transcript.json').flush({ cues: [] });
    await settle();
    return fixture;
  }

  it('does not ask a room that never had a session for its transcript (there is none: a 404 in the console)', async () => {
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const http = TestBed.inject(HttpTestingController);
    http.expectOne('/api/rooms/room1').flush({ title: 'New talk', notice: 'x', has_transcript: false });
    await settle();
    await fixture.whenStable();
    http.expectNone('/api/rooms/room1/transcript.json');
    expect((fixture.nativeElement as HTMLElement).querySelector('h1')?.textContent).toContain('New talk');
  });

  it('shows caption text as text, never as HTML, with the partial line last', async () => {
    const fixture = await openRoom({ title: 'Keynote' });
    handlers.get('connect')!();
    handlers.get('caption')!({ id: 's:0', kind: 'final', text: '<img src=x onerror=alert(1)>', start: 0, end: 1, session_id: 's' });
    handlers.get('caption')!({ id: 's:1', kind: 'partial', text: 'and now', start: 1, end: 2, session_id: 's' });
    await fixture.whenStable();
    const element: HTMLElement = fixture.nativeElement;
    expect(element.querySelector('img')).toBeNull();
    expect(element.querySelector('.final')?.textContent?.trim()).toBe('<img src=x onerror=alert(1)>');
    expect(element.querySelector('.partial')?.textContent).toBe('and now');
    expect(element.querySelector('.partial')?.getAttribute('aria-live')).toBeNull(); // partials are not announced
  });

  it('announces whole sentences to screen readers, not the recogniser’s fragments', async () => {
    const fixture = await openRoom({ title: 'Keynote' });
    handlers.get('connect')!();
    const element: HTMLElement = fixture.nativeElement;
    const announced = () => element.querySelector('.live-region')?.textContent?.trim();
    const final = (n: number, text: string, start: number) =>
      handlers.get('caption')!({ id: `s:${n}`, kind: 'final', text, start, end: start + 0.5, session_id: 's' });
    const status = (session: string) =>
      handlers.get('status')!({ room: 'room1', session, session_id: 's', presenter_connected: true, viewers: 1, last_seq: -1, resume_seq: 0, audio_seconds: 0 });
    status('live');
    final(0, 'And so,', 0);
    final(1, 'my fellow', 0.6);
    await fixture.whenStable();
    expect(announced()).toBe('');
    final(2, 'Americans.', 1.2);
    final(3, 'Ask not', 2);
    await fixture.whenStable();
    expect(announced()).toBe('And so, my fellow Americans.');
    expect(element.querySelector('.live-region')?.getAttribute('aria-atomic')).toBe('true');
    status('paused'); // the words after the last sentence are all there will be for now
    await fixture.whenStable();
    expect(announced()).toBe('Ask not');
    status('live'); // resumed: the sentence before the pause is not said again
    await fixture.whenStable();
    expect(announced()).toBe('Ask not');
    final(4, 'what your country can do for you.', 3);
    await fixture.whenStable();
    expect(announced()).toBe('Ask not what your country can do for you.');
  });

  it('starts with the whole session so far, then asks the socket only for what follows', async () => {
    let auth: Record<string, unknown> = {};
    TestBed.overrideProvider(SOCKET_FACTORY, {
      useValue: (_url: string, options: { auth: (give: (a: Record<string, unknown>) => void) => void }) => {
        options.auth((given) => (auth = given));
        return { connected: false, io: { on: () => undefined }, on: () => undefined, emit: () => undefined, connect: () => undefined, disconnect: () => undefined };
      },
    });
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const cues = Array.from({ length: 120 }, (_, i) => ({ id: `abc:${i}`, start: i, end: i + 0.5, text: `line ${i}` }));
    TestBed.inject(HttpTestingController).expectOne('/api/rooms/room1').flush({ title: 'T', notice: 'x', has_transcript: true });
    await settle();
    TestBed.inject(HttpTestingController).expectOne('/api/rooms/room1/transcript.json').flush({ cues });
    await settle();
    await fixture.whenStable();
    expect((fixture.nativeElement as HTMLElement).querySelectorAll('.final').length).toBe(120);
    expect(auth).toEqual({ room: 'room1', role: 'viewer', last_id: 'abc:119' });
  });

  it('remembers the reader\'s text size and theme, each named in words', async () => {
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const element: HTMLElement = fixture.nativeElement;
    (element.querySelector('button.icon') as HTMLButtonElement).click();
    await fixture.whenStable();
    const larger = element.querySelector('button.bigger') as HTMLButtonElement;
    // Its accessible name holds its visible label (axe: label-content-name-mismatch), then says what it does.
    expect(larger.textContent?.trim()).toBe('A+ larger text');
    expect(larger.getAttribute('aria-label')).toBeNull();
    larger.click();
    const themes = [...element.querySelectorAll<HTMLButtonElement>('button[role=radio]')];
    expect(themes.map((b) => b.textContent?.trim())).toEqual(['Dark', 'Light', 'High contrast']);
    themes.find((b) => b.textContent?.trim() === 'Light')!.click();
    await fixture.whenStable();
    expect(element.classList).toContain('theme-light');
    expect(JSON.parse(localStorage.getItem('captions.viewer-settings')!)).toEqual({ fontSize: 32, theme: 'light' });
  });

  it('tells the reader what the talk is doing, whether its presenter is there, how late the captions are, and that they are automatic', async () => {
    const fixture = await openRoom({ title: 'Keynote', notice: 'Live captions by Jane Doe' });
    handlers.get('connect')!();
    const element: HTMLElement = fixture.nativeElement;
    const state = () => element.querySelector('.talk-state')?.textContent?.trim();
    const kind = () => element.querySelector('.talk-state')?.getAttribute('data-state');
    const status = (session: string, presenter_connected = true) =>
      handlers.get('status')!({ room: 'room1', session, session_id: 's', presenter_connected, viewers: 1, last_seq: -1, resume_seq: 0, audio_seconds: 0 });

    status('live');
    handlers.get('lag')!({ room: 'room1', seconds: 4.4 });
    await fixture.whenStable();
    expect(state()).toBe('Live');
    expect(element.querySelector('.behind')?.textContent?.trim()).toBe('Captions 4 s behind');
    expect(element.querySelector('.caption-notice')?.textContent?.trim()).toBe('Live captions by Jane Doe');

    handlers.get('lag')!({ room: 'room1', seconds: 0 });
    status('paused');
    await fixture.whenStable();
    expect(state()).toContain('Paused');
    expect(kind()).toBe('paused');
    expect(element.querySelector('.behind')).toBeNull();

    status('live', false);
    await fixture.whenStable();
    expect(state()).toBe('The presenter is reconnecting — captions will continue.');
    expect(kind()).toBe('away');
    status('paused', false);
    await fixture.whenStable();
    expect(state()).toContain('Paused'); // a paused talk is silent on purpose, whoever is connected
    status('live');
    await fixture.whenStable();
    expect(state()).toBe('Live');
    expect(kind()).toBe('live'); // styled as the page's most prominent line, with a red dot

    status('ended');
    await fixture.whenStable();
    expect(state()).toBe('The talk has ended — download the transcript below.');
    expect(kind()).toBe('ended');
    expect([...element.querySelectorAll('.notice.ended a')].map((a) => a.textContent)).toEqual(['TXT', 'VTT', 'SRT']);
    expect(element.querySelector('.talk-state')?.getAttribute('aria-live')).toBe('polite');
  });
});
