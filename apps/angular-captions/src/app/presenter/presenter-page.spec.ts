import { TestBed } from '@angular/core/testing';
import { ErrorHandler, provideZonelessChangeDetection } from '@angular/core';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideRouter } from '@angular/router';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SOCKET_FACTORY } from '../core/caption-socket';
import { socketStub, type SocketStub } from '../core/socket-stub';
import { PresenterPage } from './presenter-page';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('PresenterPage', () => {
  let stub: SocketStub;
  let handlers: SocketStub['handlers'];
  let errors: unknown[];

  beforeEach(() => {
    localStorage.clear();
    errors = [];
    stub = socketStub();
    handlers = stub.handlers;
    const fake = stub.socket;
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: SOCKET_FACTORY, useValue: () => fake },
        { provide: ErrorHandler, useValue: { handleError: (error: unknown) => errors.push(error) } },
      ],
    });
  });

  afterEach(() => history.replaceState(null, '', '/'));

  async function open(hash = '') {
    history.replaceState(null, '', `/present/room1${hash}`);
    const fixture = TestBed.createComponent(PresenterPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    await settle();
    const http = TestBed.inject(HttpTestingController);
    http.match('/api/rooms/room1').forEach((r) => r.flush({ title: 'Keynote', language: 'en', notice: 'x', has_transcript: true }));
    await settle();
    http.match('/api/rooms/room1/transcript.json').forEach((r) => r.flush({ cues: [] }));
    await fixture.whenStable();
    return { fixture, element: fixture.nativeElement as HTMLElement };
  }

  it('opens from a presenter link: keeps the key, takes it out of the address bar, offers the link to copy', async () => {
    const { element } = await open('#key=the%2Bkey');
    expect(localStorage.getItem('captions.presenter-key.room1')).toBe('the+key');
    expect(JSON.parse(localStorage.getItem('captions.my-rooms')!)[0]).toMatchObject({ id: 'room1', title: 'Keynote' });
    expect(location.hash).toBe('');
    const link = element.querySelector('#presenter-link') as HTMLInputElement;
    expect(link.type).toBe('password');
    expect(link.value).toBe(`${location.origin}/present/room1#key=the%2Bkey`);
    expect(element.querySelector('.keep')?.textContent).toContain('present from another device');
    expect(element.querySelector('a.home')?.getAttribute('aria-label')).toBeNull();
  });

  it('answers Alt+S, Alt+P and Alt+X, and shows them on its buttons', async () => {
    localStorage.setItem('captions.presenter-key.room1', 'k');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    handlers.get('status')!({ room: 'room1', session: 'live', session_id: 's', presenter_connected: true, viewers: 0, last_seq: -1, resume_seq: 0, audio_seconds: 3 });
    await fixture.whenStable();
    expect([...element.querySelectorAll('.buttons kbd')].map((k) => k.textContent)).toEqual(['Alt+S', 'Alt+P', 'Alt+X']);
    document.dispatchEvent(new KeyboardEvent('keydown', { code: 'KeyX', altKey: true }));
    await settle();
    expect(stub.emitted).toContainEqual(['stop']);
  });

  it('says honestly that it is offline and how much speech it keeps', async () => {
    localStorage.setItem('captions.presenter-key.room1', 'k');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    handlers.get('lag')!({ room: 'room1', seconds: 1.0 });
    stub.connected = false;
    handlers.get('disconnect')!('transport close');
    (fixture.componentInstance as unknown as { capturing: { set(v: boolean): void } }).capturing.set(true);
    const socket = (fixture.componentInstance as unknown as { socket: { sendAudio(pcm: ArrayBuffer): void } }).socket;
    for (let i = 0; i < 120; i++) socket.sendAudio(new ArrayBuffer(3200));
    await fixture.whenStable();
    expect(element.querySelector('.connection-note')?.textContent).toBe('Offline — 12 s of speech kept, sent when the connection is back.');
    expect(element.querySelector('.lag')).toBeNull();
  });

  it('says when another device presents the room, lets go of the microphone, and takes the room back on request', async () => {
    localStorage.setItem('captions.presenter-key.room1', 'k');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    const page = fixture.componentInstance as unknown as { capturing: { (): boolean; set(v: boolean): void } };
    page.capturing.set(true);
    handlers.get('error')!({ code: 'presenter_replaced', message: 'the presenter key was used on another connection' });
    stub.connected = false;
    handlers.get('disconnect')!('io server disconnect');
    await fixture.whenStable();
    const notice = element.querySelector('.replaced');
    expect(notice?.getAttribute('role')).toBe('alert');
    expect(notice?.textContent).toContain('This room is being presented from another device or tab now.');
    expect(element.querySelector('.connection-note')).toBeNull(); // not "reconnecting": it does not
    expect(element.querySelector('.problem')).toBeNull();
    expect(page.capturing()).toBe(false);
    const connects = stub.connects;
    (element.querySelector('button.present-here') as HTMLButtonElement).click();
    expect(stub.connects).toBe(connects + 1);
    handlers.get('connect')!();
    await fixture.whenStable();
    expect(element.querySelector('.replaced')).toBeNull();
  });

  it('shows the room vocabulary, marks learned terms, and sends the whole list on add and remove', async () => {
    localStorage.setItem('captions.presenter-key.room1', 'k');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    handlers.get('vocabulary')!({ terms: ['Kubernetes'], learned: [] });
    handlers.get('vocabulary')!({ terms: ['Kubernetes', 'Xiaomi'], learned: ['Xiaomi'] });
    await fixture.whenStable();
    const items = [...element.querySelectorAll('app-vocabulary-panel li')];
    expect(items.map((li) => li.querySelector('span')?.textContent)).toEqual(['Kubernetes', 'Xiaomi']);
    expect(items.map((li) => li.classList.contains('learned'))).toEqual([false, true]);
    expect(items[1].textContent).toContain('learned from a correction');
    const field = element.querySelector('#new-terms') as HTMLInputElement;
    field.value = 'gRPC, kubernetes';
    field.dispatchEvent(new Event('input'));
    field.dispatchEvent(new Event('change', { bubbles: true })); // what Tab after typing does: not a vocabulary
    expect(stub.emitted.filter(([event]) => event === 'vocabulary')).toEqual([]);
    expect(errors).toEqual([]);
    (element.querySelector('app-vocabulary-panel form') as HTMLFormElement).dispatchEvent(new SubmitEvent('submit'));
    expect(stub.emitted).toContainEqual(['vocabulary', { terms: ['Kubernetes', 'Xiaomi', 'gRPC'] }]);
    (element.querySelector('button[aria-label="Remove Kubernetes"]') as HTMLButtonElement).click();
    expect(stub.emitted).toContainEqual(['vocabulary', { terms: ['Xiaomi'] }]);
  });

  it('tells the presenter when the local model carries the talk on, and why', async () => {
    localStorage.setItem('captions.presenter-key.room1', 'k');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    const live = { room: 'room1', session: 'live', session_id: 's', presenter_connected: true, viewers: 0, last_seq: -1, resume_seq: 0, audio_seconds: 3 };
    handlers.get('status')!(live);
    handlers.get('recognizer')!({ room: 'room1', requested: 'google', active: 'local', reason: 'Google Speech-to-Text is unreachable' });
    await fixture.whenStable();
    const notice = element.querySelector('.fallback');
    expect(notice?.getAttribute('role')).toBe('status');
    expect(notice?.textContent).toBe("Captions now come from this server's own model: Google Speech-to-Text is unreachable.");
    handlers.get('status')!({ ...live, session: 'ended' });
    await fixture.whenStable();
    expect(element.querySelector('.fallback')).toBeNull();
  });

  it('replaces a leaked presenter link once asked to, and goes on with the new key', async () => {
    let options: { auth: (give: (auth: unknown) => void) => void } | undefined;
    TestBed.overrideProvider(SOCKET_FACTORY, {
      useValue: (_url: string, given: typeof options) => {
        options = given;
        return stub.socket;
      },
    });
    localStorage.setItem('captions.presenter-key.room1', 'old-key');
    const { fixture, element } = await open();
    handlers.get('connect')!();
    const http = TestBed.inject(HttpTestingController);
    const buttons = () => [...element.querySelectorAll('.replace button')] as HTMLButtonElement[];
    expect(buttons().map((b) => b.textContent?.trim())).toEqual(['New presenter link']); // public: no viewer link
    buttons()[0].click();
    await fixture.whenStable();
    expect(element.querySelector('.replace [role=alert]')?.textContent).toContain('disconnected');
    http.expectNone('/api/rooms/room1/rotate');
    (element.querySelector('.replace .danger') as HTMLButtonElement).click();
    const request = http.expectOne('/api/rooms/room1/rotate');
    expect(request.request.headers.get('X-Presenter-Key')).toBe('old-key');
    expect(request.request.body).toEqual({ presenter_key: true, viewer_token: false });
    request.flush({ presenter_key: 'new-key', viewer_token: null, viewer_url: null, embed_url: null });
    await settle();
    await fixture.whenStable();
    expect(localStorage.getItem('captions.presenter-key.room1')).toBe('new-key');
    let auth: unknown;
    options!.auth((given) => (auth = given));
    expect(auth).toMatchObject({ role: 'presenter', key: 'new-key' });
    expect((element.querySelector('#presenter-link') as HTMLInputElement).value).toContain('new-key');
    expect(element.querySelector('.replace [role=status]')?.textContent).toContain('New presenter link made');
  });
});
