import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { SOCKET_FACTORY } from '../core/caption-socket';
import { ViewerPage } from './viewer-page';

/** Let the page's awaited HTTP responses and follow-up work run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ViewerPage', () => {
  let handlers: Map<string, (...args: any[]) => void>;

  beforeEach(() => {
    localStorage.clear();
    handlers = new Map();
    const fake = {
      connected: true,
      io: { on: () => undefined },
      on: (event: string, listener: (...args: any[]) => void) => handlers.set(event, listener),
      emit: () => undefined,
      connect: () => undefined,
      disconnect: () => undefined,
    };
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideHttpClient(),
        provideHttpClientTesting(),
        { provide: SOCKET_FACTORY, useValue: () => fake },
      ],
    });
  });

  it('shows caption text as text, never as HTML, with the partial line last', async () => {
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const http = TestBed.inject(HttpTestingController);
    http.expectOne('/api/rooms/room1/transcript.json').flush({ cues: [] });
    await settle();
    http.expectOne('/api/rooms/room1').flush({ title: 'Keynote' });
    handlers.get('connect')!();
    handlers.get('caption')!({ id: 's:0', kind: 'final', text: '<img src=x onerror=alert(1)>', start: 0, end: 1, session_id: 's' });
    handlers.get('caption')!({ id: 's:1', kind: 'partial', text: 'and now', start: 1, end: 2, session_id: 's' });
    await fixture.whenStable();
    const element: HTMLElement = fixture.nativeElement;
    expect(element.querySelector('img')).toBeNull();
    expect(element.querySelector('.final')?.textContent?.trim()).toBe('<img src=x onerror=alert(1)>');
    expect(element.querySelector('.partial')?.textContent).toBe('and now');
    expect(element.querySelector('[aria-live="polite"]')).not.toBeNull();
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
    TestBed.inject(HttpTestingController).expectOne('/api/rooms/room1/transcript.json').flush({ cues });
    await settle();
    await fixture.whenStable();
    expect((fixture.nativeElement as HTMLElement).querySelectorAll('.final').length).toBe(120);
    expect(auth).toEqual({ room: 'room1', role: 'viewer', last_id: 'abc:119' });
  });

  it('remembers the reader\'s text size and theme', async () => {
    const fixture = TestBed.createComponent(ViewerPage);
    fixture.componentRef.setInput('room', 'room1');
    fixture.detectChanges();
    const element: HTMLElement = fixture.nativeElement;
    (element.querySelector('button.icon') as HTMLButtonElement).click();
    await fixture.whenStable();
    (element.querySelector('button[aria-label="Larger text"]') as HTMLButtonElement).click();
    const light = [...element.querySelectorAll<HTMLButtonElement>('button[role=radio]')].find((b) => b.textContent?.trim() === 'light')!;
    light.click();
    await fixture.whenStable();
    expect(element.classList).toContain('theme-light');
    expect(JSON.parse(localStorage.getItem('captions.viewer-settings')!)).toEqual({ fontSize: 32, theme: 'light' });
  });
});
