/** The longest a term may be, and how many a room keeps (the server's bounds). */
export const MAX_TERM_CHARS = 50;
export const MAX_TERMS = 100;

/** Terms typed in one go: separated by commas, semicolons or line breaks, tidied, each once. */
export function parseTerms(text: string, known: readonly string[] = []): string[] {
  const seen = new Set(known.map((term) => term.toLocaleLowerCase()));
  const terms: string[] = [];
  for (const raw of text.split(/[,;\n]/)) {
    const term = raw.split(/\s+/).filter(Boolean).join(' ').slice(0, MAX_TERM_CHARS);
    const key = term.toLocaleLowerCase();
    if (term && !seen.has(key)) {
      seen.add(key);
      terms.push(term);
    }
  }
  return terms;
}
