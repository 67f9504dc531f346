import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/paths.js';

/**
 * No module a Sluice process loads in its main thread may replace or add JavaScript
 * built-ins. pdf.js's legacy build (which the parse worker needs on Node 20) carries
 * core-js polyfills that replace JSON.stringify, JSON.parse and Array.prototype.push in
 * the thread that loads it: 6× and 3× slower here, for every event encoded, every row
 * compared and every array filled. The parser's index once re-exported the module that
 * loads it, and so every role of every process ran with them.
 *
 * Checked in a fresh Node process (a test runner's own modules would count): the
 * built-ins' functions are recorded, the modules imported, and what changed is printed.
 */
const CHECK = `
const targets = {
  JSON, Object, Reflect, Math, Number, Promise, Map, Set, Symbol, Error,
  'Array.prototype': Array.prototype, 'Promise.prototype': Promise.prototype,
  'Map.prototype': Map.prototype, 'Set.prototype': Set.prototype,
  'String.prototype': String.prototype, 'Function.prototype': Function.prototype,
  'Uint8Array.prototype': Uint8Array.prototype,
  'TypedArray.prototype': Object.getPrototypeOf(Uint8Array.prototype),
};
const snapshot = () => {
  const m = new Map();
  for (const [name, t] of Object.entries(targets))
    for (const key of Reflect.ownKeys(t)) {
      const d = Object.getOwnPropertyDescriptor(t, key);
      m.set(name + '.' + String(key), d && (d.value ?? d.get));
    }
  return m;
};
const before = snapshot();
for (const url of JSON.parse(process.env.MODULES)) await import(url);
const changed = [];
for (const [key, v] of snapshot()) if (!Object.is(before.get(key), v)) changed.push(key);
process.stdout.write(JSON.stringify(changed));
`;

function builtinsChangedBy(modules: string[]): string[] {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', CHECK],
    {
      cwd: packageRoot,
      env: { ...process.env, MODULES: JSON.stringify(modules) },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

const src = (path: string): string => pathToFileURL(join(packageRoot, 'src', path)).href;

describe('JavaScript built-ins in a Sluice main thread', () => {
  it('are left alone by every role and every CLI command', () => {
    const commands = readdirSync(join(packageRoot, 'src/cli/commands'))
      .filter((f) => f.endsWith('.ts') && !f.includes('.test.'))
      .map((f) => src(`cli/commands/${f}`));
    expect(commands.length).toBeGreaterThan(5);
    expect(builtinsChangedBy([src('app/start.ts'), ...commands])).toEqual([]);
  }, 120_000);

  it('are seen replaced when pdf.js is loaded (what the check above guards against)', () => {
    const changed = builtinsChangedBy([src('consumers/parser/pdf.ts')]);
    expect(changed).toContain('JSON.stringify');
    expect(changed).toContain('Array.prototype.push');
  }, 120_000);
});
