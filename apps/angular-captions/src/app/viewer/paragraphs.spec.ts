import { describe, expect, it } from 'vitest';
import type { CaptionLine } from '../core/caption-transcript';
import { paragraphs } from './paragraphs';

const line = (id: string, text: string, start: number, end: number, sessionId = 's1'): CaptionLine => ({
  id,
  text,
  start,
  end,
  sessionId,
  corrected: false,
});

describe('paragraphs', () => {
  it('keeps the fragments of a sentence together and breaks at pauses after a sentence', () => {
    const groups = paragraphs([
      line('1', 'And so my', 0, 1),
      line('2', 'fellow Americans.', 1.1, 2.2),
      line('3', 'Ask not', 3.5, 4.0),
      line('4', 'what your country', 4.2, 5),
    ]);
    expect(groups.map((g) => g.map((l) => l.id))).toEqual([['1', '2'], ['3', '4']]);
  });

  it('breaks at a long pause even mid-sentence, and at a new session', () => {
    const groups = paragraphs([line('1', 'we will', 0, 1), line('2', 'continue', 4, 5), line('3', 'Hello', 0, 1, 's2')]);
    expect(groups.length).toBe(3);
  });
});
