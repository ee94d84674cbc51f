import type { CaptionLine } from '../core/caption-transcript';

/** A pause this long (seconds) between two finals starts a new paragraph... */
export const PARAGRAPH_PAUSE_S = 2.5;
/** ...and a shorter one does too when the sentence has ended. */
export const SENTENCE_PAUSE_S = 1.0;

/** Finals arrive a few words at a time; readers want prose: group them into paragraphs at pauses. */
export function paragraphs(lines: readonly CaptionLine[]): CaptionLine[][] {
  const groups: CaptionLine[][] = [];
  let previous: CaptionLine | null = null;
  for (const line of lines) {
    const gap = previous ? line.start - previous.end : Infinity;
    const sentenceEnded = previous ? /[.!?…]["')\]]?$/.test(previous.text.trim()) : true;
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
