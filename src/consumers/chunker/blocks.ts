import type { MimeType } from '../../contracts/index.js';

/** A paragraph (or a fenced code block) of the document, with its heading path. */
export interface Block {
  start: number;
  end: number;
  headings: string[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$/;

/**
 * Splits a document into blocks separated by blank lines. In markdown, ATX headings
 * (# … ######) are not content: they set the heading path of the blocks below them;
 * fenced code stays one block, headings inside it included.
 */
export function parseBlocks(text: string, mimeType: MimeType): Block[] {
  const markdown = mimeType === 'text/markdown';
  const blocks: Block[] = [];
  let headings: string[] = [];
  let open: Block | undefined;
  let fence: string | undefined;
  const close = (): void => {
    if (open) blocks.push(open);
    open = undefined;
  };
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 ? text.length : nl;
    const line = text.slice(pos, lineEnd);
    // trimEnd, not /\s+$/: the regex is quadratic on a long run of inner spaces.
    const contentEnd = pos + line.trimEnd().length;
    if (markdown && fence !== undefined) {
      open!.end = contentEnd > open!.start ? contentEnd : open!.end;
      if (line.trim().startsWith(fence)) {
        fence = undefined;
        close();
      }
    } else if (markdown && FENCE.test(line)) {
      close();
      fence = FENCE.exec(line)![1]!.slice(0, 3);
      open = { start: pos + line.length - line.trimStart().length, end: contentEnd, headings };
    } else if (markdown && HEADING.test(line)) {
      close();
      const m = HEADING.exec(line)!;
      const level = m[1]!.length;
      headings = [...headings.slice(0, level - 1), (m[2] ?? '').trim()];
    } else if (line.trim() === '') {
      close();
    } else {
      open ??= { start: pos + line.length - line.trimStart().length, end: contentEnd, headings };
      open.end = contentEnd;
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  close();
  return blocks.map((b) => ({ ...b, headings: b.headings.filter((h) => h !== '') }));
}
