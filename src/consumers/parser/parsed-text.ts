/** Where a page's text lies in the parsed text: [start, end) offsets. Pages count from 1. */
export interface PageSpan {
  page: number;
  start: number;
  end: number;
}

/** What the formats report about a document, when they know it. */
export interface DocumentFacts {
  title?: string;
  language?: string;
  authors?: string[];
  created?: string;
  modified?: string;
}

/** A raw document turned into the markdown-shaped text the chunker reads. */
export interface ParsedText {
  /** Headings as `#` lines, lists as `- ` lines, table rows as `a | b | c`, blocks split by blank lines. */
  text: string;
  /** Paged formats (PDF) only: which offsets came from which page. */
  pages?: PageSpan[];
  /** Pages without a text layer (a scan): reported, not silently empty. */
  pagesWithoutText?: number[];
  facts: DocumentFacts;
}

/** Builds the text block by block, so that page spans and blocks never overlap. */
export class TextBuilder {
  private readonly parts: string[] = [];
  private length = 0;

  get offset(): number {
    return this.length;
  }

  /** Appends a block (nothing for an empty one), separated from the last by a blank line. */
  block(text: string): void {
    const t = text.trim();
    if (t === '') return;
    if (this.length > 0) {
      this.parts.push('\n\n');
      this.length += 2;
    }
    this.parts.push(t);
    this.length += t.length;
  }

  toString(): string {
    return this.parts.join('');
  }
}

/** Collapses runs of white space (PDF and HTML text) to single spaces. */
export const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();
