import type { CaptionLine } from '../core/caption-transcript';

/** A pause this long (seconds) between two finals starts a new paragraph... */
export const PARAGRAPH_PAUSE_S = 2.5;
/** ...and a shorter one does too when the sentence has ended. */
export const SENTENCE_PAUSE_S = 1.0;

const SENTENCE_END = /[.!?…]["'”’)\]]*$/;

const endsSentence = (line: CaptionLine) => SENTENCE_END.test(line.text.trim());

/** A sentence for a screen reader: its text, and the id and position of its first final (a new sentence, a new
 * announcement; an earlier one is never announced again). */
export interface Sentence {
  readonly id: string;
  readonly index: number;
  readonly text: string;
}

/**
 * The last sentence the talk has completed: finals joined up to one that ends a sentence (a pause mid-sentence
 * does not end it). ``complete`` (the talk paused, ended or lost its presenter) counts the words after the last
 * sentence as one too. A screen reader announces sentences, not the recogniser's fragments.
 */
export function lastSentence(lines: readonly CaptionLine[], complete: boolean): Sentence | null {
  let done: Sentence | null = null;
  let open: CaptionLine[] = [];
  let openAt = 0;
  const close = () => {
    const text = open.map((line) => line.text.trim()).filter(Boolean).join(' ');
    if (text) done = { id: open[0].id, index: openAt, text };
    open = [];
  };
  lines.forEach((line, index) => {
    if (open.length && open[0].sessionId !== line.sessionId) close(); // a talk's last words are its own
    if (!open.length) openAt = index;
    open.push(line);
    if (endsSentence(line)) close();
  });
  if (complete) close();
  return done;
}

/** Finals arrive a few words at a time; readers want prose: group them into paragraphs at pauses. */
export function paragraphs(lines: readonly CaptionLine[]): CaptionLine[][] {
  const groups: CaptionLine[][] = [];
  let previous: CaptionLine | null = null;
  for (const line of lines) {
    const gap = previous ? line.start - previous.end : Infinity;
    const sentenceEnded = previous ? endsSentence(previous) : true;
    const newParagraph =
      !previous ||
      previous.sessionId !== line.sessionId ||
      gap >= PARAGRAPH_PAUSE_S ||
      (sentenceEnded && gap >= SENTENCE_PAUSE_S);
    if (newParagraph) groups.push([line]);
    else groups[groups.length - 1].push(line);
    previous = line;
  }
  return groups;
}
