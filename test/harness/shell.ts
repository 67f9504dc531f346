import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

const exec = promisify(execFile);

/** Runs one of the infra/local scripts; rejects with its stderr when it fails. */
export async function infra(
  script: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<string> {
  try {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...env }))
      if (v !== undefined) merged[k] = v;
    const { stdout } = await exec(join(packageRoot, 'infra/local', script), args, {
      env: merged,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`infra/local/${script} ${args.join(' ')} failed:\n${e.stderr ?? e.message}`);
  }
}

/** Parses `export KEY='value'` lines as printed by infra/local/up. */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z_]+)='(.*)'$/gm)) out[m[1]!] = m[2]!;
  return out;
}
