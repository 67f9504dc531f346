import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SluiceError } from '../errors/index.js';
import type { Judgements } from './metrics.js';

/**
 * A BEIR-format dataset folder: corpus.jsonl ({_id, title, text}), queries.jsonl
 * ({_id, text}) and qrels/<split>.tsv (query-id, corpus-id, score; a header line).
 */
export interface BeirDocument {
  id: string;
  title: string;
  text: string;
}

function need(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path))
    throw new SluiceError('REQUEST_INVALID', `${path} is missing: not a BEIR-format folder`);
  return path;
}

export async function* readCorpus(dir: string): AsyncGenerator<BeirDocument> {
  const lines = createInterface({ input: createReadStream(need(dir, 'corpus.jsonl')) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { _id: string | number; title?: string; text?: string };
    yield { id: String(d._id), title: d.title ?? '', text: d.text ?? '' };
  }
}

export function countCorpus(dir: string): number {
  return readFileSync(need(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim()).length;
}

/** Queries of a split that have judgements, in qrels order. */
export function readQueries(
  dir: string,
  split: string,
): { id: string; text: string; rel: Judgements }[] {
  const texts = new Map(
    readFileSync(need(dir, 'queries.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const q = JSON.parse(l) as { _id: string | number; text: string };
        return [String(q._id), q.text] as const;
      }),
  );
  const qrels = new Map<string, Map<string, number>>();
  for (const line of readFileSync(need(dir, `qrels/${split}.tsv`), 'utf8').split('\n')) {
    const [q, d, s] = line.trim().split('\t');
    if (!q || !d || s === undefined || !/^-?\d+$/.test(s)) continue; // header, blank lines
    const rel = qrels.get(q) ?? new Map<string, number>();
    rel.set(d, Number(s));
    qrels.set(q, rel);
  }
  return [...qrels.entries()].flatMap(([id, rel]) => {
    const text = texts.get(id);
    return text === undefined ? [] : [{ id, text, rel }];
  });
}
