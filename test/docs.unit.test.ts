import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedDocs } from '../scripts/docs.js';
import { configSpec } from '../src/config/index.js';
import { errorCodes } from '../src/errors/index.js';
import { packageRoot } from '../src/paths.js';

describe('docs match the code', () => {
  it('generated tables are current (run `npm run docs` to update them)', () => {
    for (const [path, { actual, expected }] of expectedDocs()) {
      expect(actual, path).toBe(expected);
    }
  });

  it('docs/errors.md lists every code and no other', () => {
    const text = readFileSync(join(packageRoot, 'docs/errors.md'), 'utf8');
    const documented = [...text.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it('README documents every configuration variable and no other', () => {
    const text = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    const documented = [...text.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(
      Object.values(configSpec)
        .map((o) => o.env)
        .sort(),
    );
  });
});
