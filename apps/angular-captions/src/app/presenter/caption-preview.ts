import { ChangeDetectionStrategy, Component, ElementRef, afterRenderEffect, computed, input, output, signal, viewChild } from '@angular/core';
import type { CaptionLine } from '../core/caption-transcript';

export interface CorrectionRequest {
  readonly id: string;
  /** The last final of the range the text replaces, when it spans several. */
  readonly through?: string;
  readonly text: string;
}

/** The finals being corrected: indices into ``finals``, ``from`` to ``to``. */
export interface Editing {
  readonly from: number;
  readonly to: number;
}

/** A sentence said over several finals is corrected at once, up to this many. */
export const MAX_CORRECTED_FINALS = 50;

const SENTENCE_END = /[.!?…]["'”’)\]]*$/;

/** The finals of one session around ``index`` that make up its sentence (at most MAX_CORRECTED_FINALS). */
export function sentenceAround(finals: readonly CaptionLine[], index: number): Editing {
  const session = finals[index].sessionId;
  const continues = (at: number) => at >= 0 && at < finals.length && finals[at].sessionId === session;
  let from = index;
  while (continues(from - 1) && !SENTENCE_END.test(finals[from - 1].text.trim()) && index - from < MAX_CORRECTED_FINALS - 1) from--;
  let to = index;
  while (continues(to + 1) && !SENTENCE_END.test(finals[to].text.trim()) && to + 1 - from < MAX_CORRECTED_FINALS) to++;
  return { from, to };
}

/**
 * The presenter's own captions: partial greyed, finals solid. A final can be clicked and corrected; a correction
 * can take in the following finals (Shift+click one, or "Add the next caption") so a whole sentence is replaced.
 */
@Component({
  selector: 'app-caption-preview',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div #scroller class="scroller" aria-live="polite" aria-label="Your captions">
      @for (line of finals(); track line.id; let i = $index) {
        @if (editing(); as range) {
          @if (i === range.from) {
            <span class="editor">
              <textarea #editor class="edit" rows="2" [value]="draft()" aria-label="Correct these captions"
                        aria-describedby="edit-help" (input)="draft.set(value($event))"
                        (keydown.enter)="save($event)" (keydown.escape)="cancel()" (blur)="blurred($event)"></textarea>
              <button type="button" class="more" (click)="extend(range.to + 1)" [disabled]="!canExtend()">Add the next caption</button>
              <span id="edit-help" class="help">Enter saves · Esc cancels · Shift+click a later caption to replace up to it</span>
            </span>
          } @else if ((i < range.from || i > range.to) && line.text) {
            <button type="button" class="final" [class.corrected]="line.corrected" (mousedown)="pick($event, i)"
                    (click)="startEditing(i)" title="Click to correct">{{ line.text }}</button>
          }
        } @else if (line.text) {
          <button type="button" class="final" [class.corrected]="line.corrected" (click)="startEditing(i)"
                  title="Click to correct">{{ line.text }}</button>
        }
      } @empty {
        @if (!partial()) {
          <p class="hint">Your captions appear here as you speak.</p>
        }
      }
      @if (partial(); as line) {
        <span class="partial">{{ line.text }}</span>
      }
    </div>
  `,
  styles: `
    .scroller { max-height: 40vh; overflow-y: auto; font-size: 1.35rem; line-height: 1.5; padding: 0.5rem;
      background: #111; color: #fff; border-radius: 0.5rem; }
    .final { all: unset; cursor: text; margin-right: 0.3em; border-radius: 0.2em; }
    .final:hover, .final:focus-visible { outline: 2px solid #8ab4f8; }
    .final.corrected { text-decoration: underline dotted #8ab4f8; }
    .partial { color: #aaa; }
    .editor { display: grid; gap: 0.3rem; margin: 0.3rem 0; }
    .edit { font: inherit; width: 100%; box-sizing: border-box; }
    .more { justify-self: start; font: 0.9rem system-ui, sans-serif; }
    .help { font: 0.8rem system-ui, sans-serif; color: #ccc; }
    .hint { color: #aaa; margin: 0; }
  `,
})
export class CaptionPreview {
  readonly finals = input.required<readonly CaptionLine[]>();
  readonly partial = input<CaptionLine | null>(null);
  readonly correct = output<CorrectionRequest>();
  protected readonly editing = signal<Editing | null>(null);
  protected readonly draft = signal('');
  protected readonly canExtend = computed(() => {
    const range = this.editing();
    if (!range) return false;
    const next = this.finals()[range.to + 1];
    return !!next && next.sessionId === this.finals()[range.from].sessionId && range.to + 1 - range.from < MAX_CORRECTED_FINALS;
  });
  private readonly scroller = viewChild.required<ElementRef<HTMLElement>>('scroller');
  private readonly editor = viewChild<ElementRef<HTMLTextAreaElement>>('editor');

  constructor() {
    afterRenderEffect(() => {
      this.finals();
      this.partial();
      const element = this.scroller().nativeElement;
      if (!this.editing()) element.scrollTop = element.scrollHeight;
    });
    afterRenderEffect(() => {
      if (this.editing()) this.editor()?.nativeElement.focus();
    });
  }

  /** A click corrects the whole sentence the clicked final belongs to: live finals are often a word or two, and
   * a mistake is fixed in its sentence. */
  protected startEditing(index: number): void {
    const range = sentenceAround(this.finals(), index);
    this.editing.set(range);
    this.draft.set(this.finals().slice(range.from, range.to + 1).map((line) => line.text).join(' ').replace(/\s+/g, ' ').trim());
  }

  /** Shift+click on a later final of the same session while correcting: the range runs up to it. */
  protected pick(event: MouseEvent, index: number): void {
    const range = this.editing();
    if (!event.shiftKey || !range || index <= range.to) return;
    event.preventDefault(); // the textarea keeps its focus
    this.extend(index);
  }

  protected extend(index: number): void {
    const range = this.editing();
    const finals = this.finals();
    if (!range || index >= finals.length || finals[index].sessionId !== finals[range.from].sessionId) return;
    const to = Math.min(index, range.from + MAX_CORRECTED_FINALS - 1);
    const added = finals.slice(range.to + 1, to + 1).map((line) => line.text);
    this.draft.set([this.draft(), ...added].join(' ').replace(/\s+/g, ' ').trim());
    this.editing.set({ from: range.from, to });
  }

  protected save(event: Event): void {
    event.preventDefault();
    const range = this.editing();
    const text = this.draft().trim();
    this.editing.set(null);
    if (!range || !text) return;
    const finals = this.finals();
    const original = finals.slice(range.from, range.to + 1).map((line) => line.text).join(' ');
    if (text === original) return;
    const through = range.to > range.from ? { through: finals[range.to].id } : {};
    this.correct.emit({ id: finals[range.from].id, ...through, text });
  }

  protected cancel(): void {
    this.editing.set(null);
  }

  /** Leaving the editor cancels, unless focus went to its own "Add the next caption" button. */
  protected blurred(event: FocusEvent): void {
    const to = event.relatedTarget as HTMLElement | null;
    if (!to?.classList.contains('more')) this.cancel();
  }

  protected value(event: Event): string {
    return (event.target as HTMLTextAreaElement).value;
  }
}
