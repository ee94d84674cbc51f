import { ChangeDetectionStrategy, Component, computed, input, output, signal } from '@angular/core';
import { MAX_TERMS, parseTerms } from '../shared/vocabulary-terms';

/** The room's vocabulary: names and jargon the recogniser should write as written; terms learned from
 * corrections are marked, and every term can be removed. */
@Component({
  selector: 'app-vocabulary-panel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2 id="vocabulary-heading">Vocabulary</h2>
    <p class="hint">Names and terms of your talk, spelled as they should appear. Corrections you make teach it new ones.</p>
    @if (terms().length) {
      <ul aria-labelledby="vocabulary-heading">
        @for (term of terms(); track term) {
          <li [class.learned]="learned().has(term)">
            <span>{{ term }}</span>
            @if (learned().has(term)) {
              <small>learned from a correction</small>
            }
            <button type="button" (click)="remove(term)" [attr.aria-label]="'Remove ' + term">×</button>
          </li>
        }
      </ul>
    }
    <form (submit)="add($event)">
      <label for="new-terms">Add terms</label>
      <div class="row">
        <input id="new-terms" autocomplete="off" [value]="draft()" (input)="draft.set(value($event))"
               [disabled]="full()" placeholder="Kubernetes, Dr. Okonkwo" />
        <button type="submit" [disabled]="full()">Add</button>
      </div>
      @if (full()) {
        <p class="hint">The vocabulary holds {{ max }} terms: remove one to add another.</p>
      }
    </form>
  `,
  styles: `
    :host { display: grid; gap: 0.4rem; }
    h2 { margin: 0; font-size: 1.1rem; }
    .hint { margin: 0; font-size: 0.85rem; }
    ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem; }
    li { display: inline-flex; align-items: center; gap: 0.3rem; border: 1px solid currentColor; border-radius: 1rem; padding: 0.1rem 0.2rem 0.1rem 0.6rem; }
    li.learned { border-style: dashed; }
    small { font-size: 0.75rem; }
    li button { border: 0; background: none; font: inherit; cursor: pointer; min-width: 1.6rem; min-height: 1.6rem; }
    .row { display: flex; gap: 0.4rem; }
    .row input { flex: 1; font: inherit; }
    button { font: inherit; }
  `,
})
export class VocabularyPanel {
  readonly terms = input.required<readonly string[]>();
  readonly learned = input<ReadonlySet<string>>(new Set());
  /** The whole vocabulary as it should be from now on. Not `change`: a native `change` event of the input
   * bubbles to this element, and a `(change)` binding would take that Event for the terms. */
  readonly termsChange = output<string[]>();
  protected readonly draft = signal('');
  protected readonly max = MAX_TERMS;
  protected readonly full = computed(() => this.terms().length >= MAX_TERMS);

  protected add(event: SubmitEvent): void {
    event.preventDefault();
    const added = parseTerms(this.draft(), this.terms());
    if (!added.length) return;
    this.termsChange.emit([...this.terms(), ...added].slice(0, MAX_TERMS));
    this.draft.set('');
  }

  protected remove(term: string): void {
    this.termsChange.emit(this.terms().filter((kept) => kept !== term));
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }
}
