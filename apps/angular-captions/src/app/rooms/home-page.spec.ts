import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Router, provideRouter } from '@angular/router';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HomePage } from './home-page';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('HomePage', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting(), provideRouter([])],
    });
  });

  const local = (languages: string[]) => ({ languages, partials: true, vocabulary: true, name: 'This server (Whisper)' });

  async function home(
    languages: string[],
    more: Record<string, ReturnType<typeof local>> = {},
    roomCreation: 'open' | 'organizers' = 'open',
  ) {
    const fixture = TestBed.createComponent(HomePage);
    fixture.detectChanges();
    TestBed.inject(HttpTestingController)
      .expectOne('/api/capabilities')
      .flush({ recognizers: { local: local(languages), ...more }, default: 'local', room_creation: roomCreation });
    await settle();
    await fixture.whenStable();
    return { fixture, element: fixture.nativeElement as HTMLElement };
  }

  it('offers no language choice when the server transcribes one language', async () => {
    const { element } = await home(['en']);
    expect(element.querySelector('select#language')).toBeNull();
    expect(element.querySelector('.language-note')?.textContent).toContain('English');
  });

  it('offers exactly the languages the server transcribes', async () => {
    const { element } = await home(['en', 'de']);
    const options = [...element.querySelectorAll('select#language option')].map((o) => (o as HTMLOptionElement).value);
    expect(options.sort()).toEqual(['de', 'en']);
  });

  it('offers a recogniser choice only when the server has more than one, with the languages of the chosen one', async () => {
    const alone = await home(['en']);
    expect(alone.element.querySelector('select#recognizer')).toBeNull();
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting(), provideRouter([])],
    });
    const google = { ...local(['en-US', 'en-GB', 'de-DE']), name: 'Google Speech-to-Text' };
    const { fixture, element } = await home(['en'], { google });
    const choices = [...element.querySelectorAll('select#recognizer option')].map((o) => o.textContent?.trim());
    expect(choices).toEqual(['This server (Whisper)', 'Google Speech-to-Text']);
    const select = element.querySelector('select#recognizer') as HTMLSelectElement;
    select.value = 'google';
    select.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    const languages = [...element.querySelectorAll('select#language option')].map((o) => (o as HTMLOptionElement).value);
    expect(languages.sort()).toEqual(['de-DE', 'en-GB', 'en-US']);
    expect((element.querySelector('select#language') as HTMLSelectElement).value).toBe('en-US');
  });

  it('creates the room on the chosen recogniser with its names and terms', async () => {
    const google = { ...local(['en-US', 'de-DE']), name: 'Google Speech-to-Text' };
    const { fixture, element } = await home(['en'], { google });
    vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    const type = (selector: string, text: string, event = 'input') => {
      const field = element.querySelector(selector) as HTMLInputElement;
      field.value = text;
      field.dispatchEvent(new Event(event));
    };
    type('#title', 'Platform day');
    type('select#recognizer', 'google', 'change');
    type('#terms', 'Kubernetes, gRPC;\nkubernetes ,  Dr.  Okonkwo');
    await fixture.whenStable();
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new SubmitEvent('submit'));
    const request = TestBed.inject(HttpTestingController).expectOne('/api/rooms');
    expect(request.request.body).toEqual({
      title: 'Platform day',
      language: 'en-US',
      private: false,
      recognizer: 'google',
      vocabulary: ['Kubernetes', 'gRPC', 'Dr. Okonkwo'],
    });
  });

  it('opens a room from a pasted presenter link, keeping its key', async () => {
    const { fixture, element } = await home(['en']);
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    const field = element.querySelector('#room-id') as HTMLInputElement;
    field.value = 'https://captions.example/present/room1234#key=secret';
    field.dispatchEvent(new Event('input'));
    (element.querySelectorAll('form')[1] as HTMLFormElement).dispatchEvent(new SubmitEvent('submit'));
    await fixture.whenStable();
    expect(localStorage.getItem('captions.presenter-key.room1234')).toBe('secret');
    expect(navigate).toHaveBeenCalledWith(['/present', 'room1234']);
  });

  it('asks for an organizer token only where the server requires one, sends it and keeps it', async () => {
    const open = await home(['en']);
    expect(open.element.querySelector('#organizer-token')).toBeNull();
    const fresh = () => {
      TestBed.resetTestingModule();
      TestBed.configureTestingModule({
        providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting(), provideRouter([])],
      });
    };
    fresh();
    const { fixture, element } = await home(['en'], {}, 'organizers');
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
    const http = TestBed.inject(HttpTestingController);
    const type = (selector: string, text: string) => {
      const field = element.querySelector(selector) as HTMLInputElement;
      field.value = text;
      field.dispatchEvent(new Event('input'));
    };
    const submit = async () => {
      (element.querySelector('form') as HTMLFormElement).dispatchEvent(new SubmitEvent('submit'));
      await fixture.whenStable();
    };
    const problem = () => element.querySelector('[role=alert]')?.textContent ?? '';
    type('#title', 'Board meeting');
    await submit();
    http.expectNone('/api/rooms');
    expect(problem()).toContain('enter your organizer token');

    type('#organizer-token', 'org_wrong');
    await submit();
    http.expectOne('/api/rooms').flush({ code: 'bad_organizer_token', status: 401 }, { status: 401, statusText: 'Unauthorized' });
    await settle();
    await fixture.whenStable();
    expect(problem()).toContain('not valid here');
    expect(localStorage.getItem('captions.organizer-token')).toBeNull();

    type('#organizer-token', 'org_right');
    await submit();
    const request = http.expectOne('/api/rooms');
    expect(request.request.headers.get('Authorization')).toBe('Bearer org_right');
    request.flush({ id: 'room1234', presenter_key: 'key', viewer_token: null }, { status: 201, statusText: 'Created' });
    await settle();
    expect(localStorage.getItem('captions.organizer-token')).toBe('org_right');
    expect(navigate).toHaveBeenCalledWith(['/present', 'room1234']);

    fresh();
    const again = await home(['en'], {}, 'organizers');
    expect((again.element.querySelector('#organizer-token') as HTMLInputElement).value).toBe('org_right');
  });

  it('lists the rooms this browser created or presented, newest first, and deletes one with its key', async () => {
    localStorage.setItem(
      'captions.my-rooms',
      JSON.stringify([
        { id: 'old-room', title: 'Last week', lastUsed: Date.now() - 3 * 86_400_000 },
        { id: 'new-room', title: 'Keynote', lastUsed: Date.now() - 5 * 60_000 },
      ]),
    );
    localStorage.setItem('captions.presenter-key.new-room', 'k-new');
    localStorage.setItem('captions.viewer-token.new-room', 'tok');
    const { fixture, element } = await home(['en']);
    const items = () => [...element.querySelectorAll('.my-rooms li')];
    expect(items().map((li) => li.querySelector('.room-title')?.textContent)).toEqual(['Keynote', 'Last week']);
    expect(items()[0].querySelector('.used')?.textContent).toBe('Last used 5 minutes ago');
    expect(items()[1].querySelector('.used')?.textContent).toBe('Last used 3 days ago');
    expect(items()[0].querySelector('a.present')?.getAttribute('href')).toBe('/present/new-room');
    expect(items()[0].querySelector('a.view')?.getAttribute('href')).toBe('/r/new-room#token=tok');

    (items()[0].querySelector('button[aria-label="Delete Keynote"]') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(items()[0].querySelector('.confirm')?.textContent).toContain('Delete it and its transcripts?');
    (items()[0].querySelector('button.danger') as HTMLButtonElement).click();
    const request = TestBed.inject(HttpTestingController).expectOne('/api/rooms/new-room');
    expect(request.request.method).toBe('DELETE');
    expect(request.request.headers.get('X-Presenter-Key')).toBe('k-new');
    request.flush(null, { status: 204, statusText: 'No Content' });
    await settle();
    await fixture.whenStable();
    expect(items().map((li) => li.querySelector('.room-title')?.textContent)).toEqual(['Last week']);
    expect(localStorage.getItem('captions.presenter-key.new-room')).toBeNull();
  });

  it('remembers a room it creates', async () => {
    const { fixture, element } = await home(['en']);
    const title = element.querySelector('#title') as HTMLInputElement;
    title.value = 'Workshop';
    title.dispatchEvent(new Event('input'));
    (element.querySelector('form') as HTMLFormElement).dispatchEvent(new SubmitEvent('submit'));
    TestBed.inject(HttpTestingController)
      .expectOne('/api/rooms')
      .flush({ id: 'room-9', presenter_key: 'k9', viewer_url: 'x', embed_url: 'y' });
    await settle();
    await fixture.whenStable();
    expect(JSON.parse(localStorage.getItem('captions.my-rooms')!).map((room: { id: string; title: string }) => [room.id, room.title])).toEqual([['room-9', 'Workshop']]);
  });
});
