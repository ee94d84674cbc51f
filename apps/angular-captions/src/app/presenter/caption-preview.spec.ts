import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CaptionLine } from '../core/caption-transcript';
import { CaptionPreview, type CorrectionRequest } from './caption-preview';

const line = (id: string, text: string, sessionId = 's'): CaptionLine => ({ id, text, start: 0, end: 1, sessionId, corrected: false });

describe('CaptionPreview', () => {
  beforeEach(() => TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] }));

  async function preview(finals: CaptionLine[]) {
    const fixture = TestBed.createComponent(CaptionPreview);
    fixture.componentRef.setInput('finals', finals);
    const corrections: CorrectionRequest[] = [];
    fixture.componentInstance.correct.subscribe((c) => corrections.push(c));
    await fixture.whenStable();
    return { fixture, element: fixture.nativeElement as HTMLElement, corrections };
  }

  function type(element: HTMLElement, text: string): void {
    const editor = element.querySelector('textarea.edit') as HTMLTextAreaElement;
    editor.value = text;
    editor.dispatchEvent(new Event('input'));
    editor.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
  }

  it('lets the presenter click a final, correct it and press Enter', async () => {
    const { fixture, element, corrections } = await preview([line('s:0', 'Ask knot')]);
    fixture.componentRef.setInput('partial', line('s:1', 'what your'));
    await fixture.whenStable();
    expect(element.querySelector('.partial')?.textContent).toBe('what your');
    (element.querySelector('button.final') as HTMLButtonElement).click();
    await fixture.whenStable();
    type(element, 'Ask not');
    expect(corrections).toEqual([{ id: 's:0', text: 'Ask not' }]);
  });

  it('replaces a sentence said over several finals with one correction', async () => {
    const { fixture, element, corrections } = await preview([
      line('s:0', 'Unless a system'),
      line('s:1', 'is established.'),
      line('s:2', 'for the review.'),
      line('s:3', 'Next one.'),
    ]);
    (element.querySelector('button.final') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect((element.querySelector('textarea.edit') as HTMLTextAreaElement).value).toBe('Unless a system is established.');
    const third = [...element.querySelectorAll<HTMLButtonElement>('button.final')].find((b) => b.textContent === 'for the review.')!;
    third.dispatchEvent(new MouseEvent('mousedown', { shiftKey: true, bubbles: true }));
    await fixture.whenStable();
    const editor = element.querySelector('textarea.edit') as HTMLTextAreaElement;
    expect(editor.value).toBe('Unless a system is established. for the review.');
    expect([...element.querySelectorAll('button.final')].map((b) => b.textContent)).toEqual(['Next one.']);
    (element.querySelector('button.more') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(editor.value).toBe('Unless a system is established. for the review. Next one.');
    type(element, 'Unless a system is established for the review. Next one.');
    expect(corrections).toEqual([{ id: 's:0', through: 's:3', text: 'Unless a system is established for the review. Next one.' }]);
  });

  it('corrects the whole sentence of the word clicked, however the recogniser cut it into finals', async () => {
    const { fixture, element, corrections } = await preview([
      line('s:0', 'Thank you.'),
      line('s:1', 'Unless'),
      line('s:2', 'a sister'),
      line('s:3', 'is established,'),
      line('s:4', 'nothing changes.'),
      line('s:5', 'Next one'),
    ]);
    const word = [...element.querySelectorAll<HTMLButtonElement>('button.final')].find((b) => b.textContent === 'a sister')!;
    word.click();
    await fixture.whenStable();
    const editor = element.querySelector('textarea.edit') as HTMLTextAreaElement;
    expect(editor.value).toBe('Unless a sister is established, nothing changes.');
    expect([...element.querySelectorAll('button.final')].map((b) => b.textContent)).toEqual(['Thank you.', 'Next one']);
    type(element, 'Unless a system is established, nothing changes.');
    expect(corrections).toEqual([{ id: 's:1', through: 's:4', text: 'Unless a system is established, nothing changes.' }]);
  });

  it('never takes a range across sessions', async () => {
    const { fixture, element } = await preview([line('a:7', 'End of one talk.'), line('b:0', 'Start of the next', 'b')]);
    (element.querySelector('button.final') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect((element.querySelector('button.more') as HTMLButtonElement).disabled).toBe(true);
  });
});
