import { describe, expect, it } from 'vitest';
import type { CaptionLine } from '../core/caption-transcript';
import { lastSentence, paragraphs } from './paragraphs';

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

  describe('lastSentence', () => {
    const talk = [
      line('1', 'And so', 0, 0.5),
      line('2', 'my fellow', 0.6, 1),
      line('3', 'Americans.', 1.1, 2.2),
      line('4', 'Ask not', 2.4, 3.0),
      line('5', 'what your country', 3.2, 4),
    ];

    it('is the last sentence completed, whole, never the fragment after it', () => {
      expect(lastSentence(talk.slice(0, 2), false)).toBeNull();
      expect(lastSentence(talk, false)).toMatchObject({ id: '1', text: 'And so my fellow Americans.' });
    });

    it('takes the words after it once the talk pauses or ends; a pause mid-sentence does not end it', () => {
      expect(lastSentence(talk, true)).toMatchObject({ id: '4', text: 'Ask not what your country' });
      const later = [...talk, line('6', 'can do for you.', 8, 9)];
      expect(lastSentence(later, false)).toMatchObject({ id: '4', text: 'Ask not what your country can do for you.' });
      const next = [...talk, line('7', 'Welcome back.', 0, 1, 's2')];
      expect(lastSentence(next, false)).toMatchObject({ id: '7', index: 5, text: 'Welcome back.' });
    });
  });
});
