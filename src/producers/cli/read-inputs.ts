import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import {
  fileMediaTypes,
  mediaTypeOfName,
  sniff,
  type FileRef,
  type MimeType,
} from '../../contracts/index.js';

/** One thing to publish: a parsed event, or the reason an input could not become one. */
export interface InputItem {
  /** Where it came from: file path, with :line for NDJSON. */
  origin: string;
  event?: unknown;
  error?: string;
}

export interface DocumentDefaults {
  tenant?: string;
  collection?: string;
  /** Builds the CloudEvent around a document's data (the producer's `event()`). */
  wrap: (data: Record<string, unknown>, type?: 'sluice.document.file.v1') => unknown;
  /** Stores a raw file (PDF, HTML, DOCX) for a file event (the producer's `putFile()`). */
  putFile?: (
    doc: { tenant: string; collection: string; documentId: string },
    bytes: Uint8Array,
    o: { mediaType?: string; filename?: string },
  ) => Promise<FileRef>;
}

/** Formats the parser role reads from the raw bytes; text and markdown travel inline. */
const RAW = new Set<string>([fileMediaTypes.pdf, fileMediaTypes.html, fileMediaTypes.docx]);

const EVENT_FILES = new Set(['.ndjson', '.jsonl', '.json']);
const MARKDOWN = new Set(['.md', '.markdown', '.mdx']);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Files under a directory, depth first, in a stable order; hidden entries and node_modules skipped. */
async function* walk(dir: string): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

async function* ndjson(
  path: string | NodeJS.ReadableStream,
  origin: string,
): AsyncGenerator<InputItem> {
  const input = typeof path === 'string' ? createReadStream(path) : path;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield { origin: `${origin}:${n}`, event: JSON.parse(line) };
    } catch (err) {
      yield { origin: `${origin}:${n}`, error: `not valid JSON: ${(err as Error).message}` };
    }
  }
}

function titleOf(text: string, mime: MimeType, file: string): string {
  if (mime === 'text/markdown') {
    const h = /^#\s+(.+?)\s*#*\s*$/m.exec(text);
    if (h) return h[1]!.slice(0, 1024);
  }
  return basename(file, extname(file));
}

async function* plainFile(
  file: string,
  documentId: string,
  d: DocumentDefaults,
): AsyncGenerator<InputItem> {
  if (d.tenant === undefined || d.collection === undefined) {
    yield { origin: file, error: 'plain files need --tenant and --collection' };
    return;
  }
  const bytes = await readFile(file);
  // The extension suggests, the bytes decide (a .txt that is a PDF is parsed as a PDF).
  const byName = mediaTypeOfName(file);
  const kind = sniff(bytes, byName);
  if (RAW.has(kind) && d.putFile) {
    try {
      const ref = await d.putFile(
        { tenant: d.tenant, collection: d.collection, documentId },
        bytes,
        {
          mediaType: kind,
          filename: basename(file),
        },
      );
      yield {
        origin: file,
        event: d.wrap(
          {
            tenant: d.tenant,
            collection: d.collection,
            documentId,
            file: ref,
            uri: pathToFileURL(resolve(file)).href,
          },
          'sluice.document.file.v1',
        ),
      };
    } catch (err) {
      yield { origin: file, error: (err as Error).message };
    }
    return;
  }
  let text: string;
  try {
    if (kind === 'binary') throw new Error('binary');
    text = strictUtf8.decode(bytes);
  } catch {
    yield {
      origin: file,
      error: 'not UTF-8 text, nor a PDF, HTML or DOCX file (other binary files are not supported)',
    };
    return;
  }
  const mimeType: MimeType = MARKDOWN.has(extname(file).toLowerCase())
    ? 'text/markdown'
    : 'text/plain';
  yield {
    origin: file,
    event: d.wrap({
      tenant: d.tenant,
      collection: d.collection,
      documentId,
      title: titleOf(text, mimeType, file),
      text,
      mimeType,
      uri: pathToFileURL(resolve(file)).href,
    }),
  };
}

async function* fromFile(
  file: string,
  documentId: string,
  d: DocumentDefaults,
): AsyncGenerator<InputItem> {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      const body: unknown = JSON.parse(await readFile(file, 'utf8'));
      for (const [i, event] of (Array.isArray(body) ? body : [body]).entries()) {
        yield { origin: Array.isArray(body) ? `${file}[${i}]` : file, event };
      }
    } catch (err) {
      yield { origin: file, error: `not valid JSON: ${(err as Error).message}` };
    }
  } else if (EVENT_FILES.has(ext)) {
    yield* ndjson(file, file);
  } else {
    yield* plainFile(file, documentId, d);
  }
}

/**
 * Turns `sluice publish` arguments into events: `-` is NDJSON on stdin; .ndjson/.jsonl
 * files hold one CloudEvent per line, .json files one event or an array; any other file
 * is a document (markdown by extension, else plain text) whose id is its path relative
 * to the directory given (or its name, for a file given alone).
 */
export async function* readInputs(
  paths: string[],
  d: DocumentDefaults,
  stdin: NodeJS.ReadableStream = process.stdin,
): AsyncGenerator<InputItem> {
  for (const p of paths) {
    if (p === '-') {
      yield* ndjson(stdin, 'stdin');
      continue;
    }
    let s;
    try {
      s = await stat(p);
    } catch {
      yield { origin: p, error: 'no such file or directory' };
      continue;
    }
    if (s.isDirectory()) {
      for await (const f of walk(p)) yield* fromFile(f, relative(p, f).split(sep).join('/'), d);
    } else {
      yield* fromFile(p, basename(p), d);
    }
  }
}

/** How many items readInputs will yield, roughly (lines of NDJSON files, one per document), for a progress bar. */
export async function countInputs(paths: string[]): Promise<number | undefined> {
  let total = 0;
  for (const p of paths) {
    if (p === '-') return undefined;
    let s;
    try {
      s = await stat(p);
    } catch {
      total++;
      continue;
    }
    const files: string[] = [];
    if (s.isDirectory()) for await (const f of walk(p)) files.push(f);
    else files.push(p);
    for (const f of files) {
      const ext = extname(f).toLowerCase();
      if (ext === '.ndjson' || ext === '.jsonl') {
        for await (const line of createInterface({
          input: createReadStream(f),
          crlfDelay: Infinity,
        }))
          if (line.trim()) total++;
      } else total++;
    }
  }
  return total;
}
