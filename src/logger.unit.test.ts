import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, wantsPretty } from './logger.js';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('log format', () => {
  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['json', true, false],
    ['pretty', false, true],
  ] as const)('LOG_FORMAT=%s on a terminal=%s: pretty=%s', (format, terminal, pretty) => {
    expect(wantsPretty(format, terminal)).toBe(pretty);
  });

  it('writes JSON lines by default and lines for people when pretty', () => {
    const json = capture();
    createLogger({ destination: json.stream }).child({ module: 'api' }).info({ n: 1 }, 'hello');
    expect(JSON.parse(json.text())).toMatchObject({ level: 30, module: 'api', n: 1, msg: 'hello' });

    const human = capture();
    createLogger({ destination: human.stream, pretty: true })
      .child({ module: 'api' })
      .warn({ n: 1 }, 'hello');
    const line = human.text();
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toMatch(/WARN.*hello/);
    expect(line).toContain('module: "api"');
    expect(line).not.toContain(String.fromCharCode(27)); // no colours into a stream that is not a terminal
  });
});
