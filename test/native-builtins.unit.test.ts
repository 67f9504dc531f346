import { spawn } from 'node:child_process';
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
 * Checked in a fresh Node process (a test runner's own modules would count): every
 * global, and the own properties of every global object or function and of its
 * prototype, are recorded by identity; the modules are imported (every role, every CLI
 * command, and what they import lazily in the main thread); what changed is printed.
 */
const CHECK = `
const read = (o, k) => { try { return o[k]; } catch { return undefined; } };
const snapshot = () => {
  const m = new Map();
  const own = (name, o) => {
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      m.set(name + '.' + String(k), d && ('value' in d ? d.value : d.get));
    }
  };
  for (const k of Reflect.ownKeys(globalThis)) {
    // Runtime state, not built-ins: process's fields, libraries' symbol-keyed globals.
    if (typeof k === 'symbol' || k === 'process') continue;
    // Read through getters: Node defines some globals lazily, the same object each time.
    const v = read(globalThis, k);
    m.set(String(k), v);
    if ((typeof v === 'function' || (typeof v === 'object' && v !== null)) && v !== globalThis) {
      own(String(k), v);
      const proto = read(v, 'prototype');
      if (typeof proto === 'object' && proto !== null) own(String(k) + '.prototype', proto);
    }
  }
  own('%TypedArray%', Object.getPrototypeOf(Uint8Array));
  own('%TypedArray%.prototype', Object.getPrototypeOf(Uint8Array.prototype));
  return m;
};
const before = snapshot();
for (const url of JSON.parse(process.env.MODULES)) await import(url);
const changed = [];
for (const [key, v] of snapshot()) if (!Object.is(before.get(key), v)) changed.push(key);
process.stdout.write(JSON.stringify(changed));
process.exit(0);
`;

function builtinsChangedBy(modules: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', CHECK],
      {
        cwd: packageRoot,
        env: { ...process.env, MODULES: JSON.stringify(modules) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    // A module that hangs on import fails the check with what it said, before the test's timeout.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as string[]);
      else reject(new Error(`the check exited with ${code ?? signal}: ${err}`));
    });
  });
}

const src = (path: string): string => pathToFileURL(join(packageRoot, 'src', path)).href;

describe('JavaScript built-ins in a Sluice main thread', () => {
  it('are left alone by every role and every CLI command', async () => {
    const commands = readdirSync(join(packageRoot, 'src/cli/commands'))
      .filter((f) => f.endsWith('.ts') && !f.includes('.test.'))
      .map((f) => src(`cli/commands/${f}`));
    expect(commands.length).toBeGreaterThan(5);
    const lazy = [src('tracing/provider.ts'), '@huggingface/transformers'];
    expect(await builtinsChangedBy([src('app/start.ts'), ...commands, ...lazy])).toEqual([]);
  }, 150_000);

  it('are seen replaced when pdf.js is loaded (what the check above guards against)', async () => {
    const changed = await builtinsChangedBy([src('consumers/parser/pdf.ts')]);
    expect(changed).toContain('JSON.stringify');
    expect(changed).toContain('Array.prototype.push');
  }, 150_000);
});
