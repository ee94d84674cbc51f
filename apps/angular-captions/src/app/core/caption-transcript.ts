import { computed, signal } from '@angular/core';
import type { Caption } from './generated';

export interface CaptionLine {
  readonly id: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly sessionId: string;
  readonly corrected: boolean;
}

/**
 * What a client has seen of a room: finals in order, each once, and the one live partial.
 * Catch-up after a reconnect may repeat finals the client already has; they are ignored by id.
 */
export class CaptionTranscript {
  private readonly _finals = signal<readonly CaptionLine[]>([]);
  private readonly _partial = signal<CaptionLine | null>(null);
  private readonly known = new Map<string, number>();

  readonly finals = this._finals.asReadonly();
  readonly partial = this._partial.asReadonly();
  readonly lastFinalId = computed(() => this._finals().at(-1)?.id ?? null);

  apply(caption: Caption): void {
    const line: CaptionLine = {
      id: caption.id,
      text: caption.text,
      start: caption.start,
      end: caption.end,
      sessionId: caption.session_id,
      corrected: caption.kind === 'correction',
    };
    const index = this.known.get(caption.id);
    if (caption.kind === 'partial') {
      if (index === undefined) this._partial.set(line.text ? line : null);
    } else if (caption.kind === 'final') {
      if (index !== undefined) return;
      this.known.set(line.id, this._finals().length);
      this._finals.update((finals) => [...finals, line]);
      if (this._partial()?.id === line.id) this._partial.set(null);
    } else if (index !== undefined) {
      const blanked = new Set(rangeAfter(caption.id, caption.through));
      this._finals.update((finals) =>
        finals.map((old, i) => (i === index ? line : blanked.has(old.id) ? { ...old, text: '', corrected: true } : old)),
      );
    }
  }
}

/** The ids after ``first`` up to ``through`` (``session:n`` numbering) that one correction empties. */
function rangeAfter(first: string, through: string | null | undefined): string[] {
  if (!through) return [];
  const [session, from] = splitId(first);
  const [same, to] = splitId(through);
  if (session !== same || !(to > from)) return [];
  return Array.from({ length: Math.min(to - from, 1000) }, (_, i) => `${session}:${from + 1 + i}`);
}

function splitId(id: string): [string, number] {
  const colon = id.lastIndexOf(':');
  return [id.slice(0, colon), Number(id.slice(colon + 1))];
}
