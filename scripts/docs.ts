/**
 * Generated parts of the docs: the configuration table in README.md and the error
 * code table in docs/errors.md come from the code. `npm run docs` rewrites them;
 * test/docs.unit.test.ts fails when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSpec } from '../src/config/index.js';
import { errorCodes } from '../src/errors/index.js';
import { packageRoot } from '../src/paths.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderConfigTable(): string {
  const rows = Object.values(configSpec).map(
    (o) =>
      `| \`${o.env}\` | ${o.default === undefined ? '(required)' : `\`${o.default}\``} | ${cell(o.doc)} |`,
  );
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

export function renderErrorTable(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, e]) =>
      `| \`${code}\` | ${e.status} | ${e.retryable ? 'transient' : 'permanent'} | ${cell(e.description)} |`,
  );
  return ['| Code | HTTP | Kind | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Replaces what lies between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function replaceSection(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${start} … ${end} not found`);
  return `${text.slice(0, i + start.length)}\n${content}\n${text.slice(j)}`;
}

export const generated = [
  { file: 'README.md', section: 'config', render: renderConfigTable },
  { file: 'docs/errors.md', section: 'errors', render: renderErrorTable },
];

/** Each generated file as it is and as it should be. */
export function expectedDocs(): Map<string, { actual: string; expected: string }> {
  const files = new Map<string, { actual: string; expected: string }>();
  for (const g of generated) {
    const path = join(packageRoot, g.file);
    const actual = files.get(path)?.actual ?? readFileSync(path, 'utf8');
    const current = files.get(path)?.expected ?? actual;
    files.set(path, { actual, expected: replaceSection(current, g.section, g.render()) });
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, { actual, expected }] of expectedDocs()) {
    if (actual !== expected) {
      writeFileSync(path, expected);
      process.stdout.write(`updated ${path}\n`);
    }
  }
}
