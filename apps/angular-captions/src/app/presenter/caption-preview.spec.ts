import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { describe, expect, it } from 'vitest';
import { CaptionPreview, type CorrectionRequest } from './caption-preview';

describe('CaptionPreview', () => {
  it('lets the presenter click a final, correct it and press Enter', async () => {
    TestBed.configureTestingModule({ providers: [provideZonelessChangeDetection()] });
    const fixture = TestBed.createComponent(CaptionPreview);
    fixture.componentRef.setInput('finals', [
      { id: 's:0', text: 'Ask knot', start: 0, end: 1, sessionId: 's', corrected: false },
    ]);
    fixture.componentRef.setInput('partial', { id: 's:1', text: 'what your', start: 1, end: 2, sessionId: 's', corrected: false });
    const corrections: CorrectionRequest[] = [];
    fixture.componentInstance.correct.subscribe((c) => corrections.push(c));
    await fixture.whenStable();
    const element: HTMLElement = fixture.nativeElement;
    expect(element.querySelector('.partial')?.textContent).toBe('what your');
    (element.querySelector('button.final') as HTMLButtonElement).click();
    await fixture.whenStable();
    const input = element.querySelector('input.edit') as HTMLInputElement;
    input.value = 'Ask not';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(corrections).toEqual([{ id: 's:0', text: 'Ask not' }]);
  });
});
