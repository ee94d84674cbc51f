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

  async function home(languages: string[]) {
    const fixture = TestBed.createComponent(HomePage);
    fixture.detectChanges();
    TestBed.inject(HttpTestingController)
      .expectOne('/api/capabilities')
      .flush({ recognizers: { local: { languages, partials: true } }, default: 'local' });
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
});
