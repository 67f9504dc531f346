/**
 * Chunking time against text length, for the worst text there is: CJK without spaces
 * or punctuation (one paragraph, one sentence, one "word", so every cut is searched
 * character by character). Each size doubles the last; a time ratio near 2 per row is
 * linear. The split runs in the chunker's worker thread (Splitter), and the main
 * thread's event-loop delay is sampled meanwhile: what NATS keepalives and /healthz
 * would wait.
 *
 *   npm run bench:chunker -- [--from-kb 64] [--to-mb 16] [--model sluice-static-384]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Splitter } from '../src/consumers/chunker/splitter.js';
import { ensureModel } from '../src/models/index.js';
import { flag, machine, sharedDir, table, textFlag } from './lib.js';

const fromBytes = flag('from-kb', 64) * 1024;
const toBytes = flag('to-mb', 16) * 1024 * 1024;
const model = textFlag('model') ?? 'sluice-static-384';

const spec = await ensureModel(`${sharedDir}/models`, model, 'fp32', false);
const splitter = new Splitter({ tokenizerDir: spec.dir, maxTokens: 254, overlapTokens: 32 });
await splitter.start();

/** CJK ideographs, 3 bytes each in UTF-8, varied so the tokenizer cannot shortcut. */
const cjk = (bytes: number): string => {
  const chars = Math.floor(bytes / 3);
  const out = new Array<string>(chars);
  for (let i = 0; i < chars; i++) out[i] = String.fromCharCode(0x4e00 + ((i * 7919) % 20902));
  return out.join('');
};

const rows: (string | number)[][] = [];
let previous: number | undefined;
for (let bytes = fromBytes; bytes <= toBytes; bytes *= 2) {
  const text = cjk(bytes);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const t0 = performance.now();
  const chunks = await splitter.split(text, 'text/plain');
  const ms = performance.now() - t0;
  delay.disable();
  rows.push([
    bytes >= 1 << 20 ? `${bytes / (1 << 20)} MB` : `${bytes / 1024} KB`,
    text.length,
    chunks.length,
    Math.round(ms),
    (ms * 1000) / text.length,
    previous === undefined ? '' : (ms / previous).toFixed(2),
    Math.round(delay.max / 1e6),
  ]);
  previous = ms;
  console.error(`${rows.at(-1)!.slice(0, 4).join('  ')} ms`);
}
await splitter.close();

console.log(`\nChunking CJK without spaces, ${model} tokenizer, ${machine()}\n`);
console.log(
  table(
    [
      'size (UTF-8)',
      'characters',
      'chunks',
      'ms',
      'µs per character',
      'time ratio to the row above (2 = linear)',
      'main-thread event-loop delay, max ms',
    ],
    rows,
  ),
);
