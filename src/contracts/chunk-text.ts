/**
 * What of a chunk is embedded: its heading path, a blank line, its text. A chunk's
 * `hash` is the sha256 of exactly this, so every embedder rebuilds the same input.
 */
export function headingPrefix(headings: readonly string[]): string {
  return headings.length > 0 ? `${headings.join(' > ')}\n\n` : '';
}

export function embedTextOf(chunk: { headings: readonly string[]; text: string }): string {
  return headingPrefix(chunk.headings) + chunk.text;
}
