import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DestinationView } from '../core/generated/destinations';
import { DestinationsPanel } from './destinations-panel';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const PATH = '/api/rooms/room1/destinations';
const ZOOM: DestinationView = { id: '0123456789abcdef', kind: 'zoom', target: 'wmcc.zoom.us', state: 'ok', error: '' };

describe('DestinationsPanel', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
    });
  });

  async function open(listed: DestinationView[]) {
    const fixture = TestBed.createComponent(DestinationsPanel);
    fixture.componentRef.setInput('roomId', 'room1');
    fixture.componentRef.setInput('presenterKey', 'the-key');
    fixture.detectChanges();
    const http = TestBed.inject(HttpTestingController);
    const load = http.expectOne(PATH);
    expect(load.request.headers.get('X-Presenter-Key')).toBe('the-key');
    load.flush({ destinations: listed });
    await settle();
    await fixture.whenStable();
    return { fixture, http, element: fixture.nativeElement as HTMLElement };
  }

  function type(element: HTMLElement, selector: string, value: string) {
    const input = element.querySelector(selector) as HTMLInputElement;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  }

  it('adds a webhook keeping the others by id: their secrets are never sent back, and none is shown', async () => {
    const { fixture, http, element } = await open([ZOOM]);
    expect(element.querySelector('li')?.textContent).toContain('wmcc.zoom.us');
    const kind = element.querySelector('#destination-kind') as HTMLSelectElement;
    kind.value = 'webhook';
    kind.dispatchEvent(new Event('change'));
    await fixture.whenStable();
    expect(element.textContent).toContain('signed with your secret');
    type(element, '#destination-url', 'https://hooks.example.com/captions');
    type(element, '#destination-secret', 'a-secret-of-twenty-chars');
    await fixture.whenStable();
    (element.querySelector('form button[type=submit]') as HTMLButtonElement).click();
    const put = http.expectOne({ method: 'PUT', url: PATH });
    expect(put.request.body).toEqual({
      destinations: [
        { keep: ZOOM.id },
        { kind: 'webhook', url: 'https://hooks.example.com/captions', secret: 'a-secret-of-twenty-chars' },
      ],
    });
    put.flush({ destinations: [ZOOM, { id: 'fedcba9876543210', kind: 'webhook', target: 'hooks.example.com', state: 'ok', error: '' }] });
    await settle();
    await fixture.whenStable();
    expect(element.querySelectorAll('li').length).toBe(2);
    expect(element.textContent).not.toContain('a-secret-of-twenty-chars');
    expect((element.querySelector('#destination-secret') as HTMLInputElement).value).toBe('');
  });

  it('shows each state as the connection tells it, and a stopped one can be tried again', async () => {
    const { fixture, http, element } = await open([ZOOM]);
    fixture.componentRef.setInput('live', { destinations: [{ ...ZOOM, state: 'failed', error: 'HTTP 403' }] });
    await fixture.whenStable();
    expect(element.querySelector('li .state')?.textContent).toBe('Stopped: HTTP 403');
    expect(element.querySelector('li .light')?.classList).toContain('failed');
    const retry = [...element.querySelectorAll('li button')].find((b) => b.textContent === 'Try again') as HTMLButtonElement;
    retry.click();
    const put = http.expectOne({ method: 'PUT', url: PATH });
    expect(put.request.body).toEqual({ destinations: [{ keep: ZOOM.id }] });
  });

  it('says in words why a destination was refused', async () => {
    const { fixture, http, element } = await open([]);
    type(element, '#destination-url', 'http://192.168.1.5/closedcaption');
    await fixture.whenStable();
    (element.querySelector('form button[type=submit]') as HTMLButtonElement).click();
    http.expectOne({ method: 'PUT', url: PATH }).flush(
      { code: 'destination_refused', detail: 'destination 1 (zoom): it is on a private, loopback or link-local address' },
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    await settle();
    await fixture.whenStable();
    const problem = element.querySelector('[role=alert]')?.textContent ?? '';
    expect(problem).toContain('may not send captions there');
    expect(problem).toContain('private');
    expect((element.querySelector('#destination-url') as HTMLInputElement).value).toBe('http://192.168.1.5/closedcaption');
  });
});
