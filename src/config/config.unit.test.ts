import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../errors/index.js';
import { describeConfig, loadConfig } from './config.js';
import { bytes, duration } from './options.js';

describe('loadConfig', () => {
  it('works with an empty environment, from documented defaults', () => {
    const c = loadConfig({});
    expect(c.natsUrl).toEqual(['nats://127.0.0.1:4222']);
    expect(c.namespace).toBe('sluice');
    expect(c.httpPort).toBe(8080);
    expect(c.roles).toContain('embedder');
    expect(c.claimCheckBytes).toBe(256 * 1024);
  });

  it('reports every bad variable at once, with a stable code', () => {
    let err: unknown;
    try {
      loadConfig({
        SLUICE_HTTP_PORT: 'eighty',
        SLUICE_NAMESPACE: 'Bad.Name',
        SLUICE_ROLES: 'api,cook',
      });
    } catch (e) {
      err = e;
    }
    expect(isSluiceError(err, 'CONFIG_INVALID')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain("SLUICE_HTTP_PORT: expected an integer, got 'eighty'");
    expect(msg).toContain('SLUICE_NAMESPACE');
    expect(msg).toContain('SLUICE_ROLES: expected one of api, chunker');
  });

  it('never prints a password, in errors or in the described config', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/x' })).toThrow(/app:\*\*\*@db/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://app:hunter2@db/x' })).not.toThrow(/hunter2/);
    const d = describeConfig(loadConfig({ DATABASE_URL: 'postgres://app:hunter2@db/x' }));
    expect(JSON.stringify(d)).not.toContain('hunter2');
    const h = describeConfig(loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=hunter2' }));
    expect(JSON.stringify(h)).not.toContain('hunter2');
  });

  it('reads the standard OpenTelemetry variables; tracing is off without an endpoint', () => {
    expect(loadConfig({}).otlpEndpoint).toBe('');
    const c = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a%2Cb, authorization=Bearer%20t',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(c.otlpEndpoint).toBe('http://collector:4318');
    expect(c.otlpHeaders).toEqual({ 'x-tenant': 'a,b', authorization: 'Bearer t' });
    expect(c.traceSampleRatio).toBe(0.25);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://c:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT: expected a http or https URL/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(
      /expected key=value pairs/,
    );
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/from 0 to 1/);
  });

  it('lets callers override parsed values (tests, --roles)', () => {
    expect(loadConfig({}, { namespace: 'tabc' }).namespace).toBe('tabc');
  });
});

describe('option parsers', () => {
  it('parses sizes', () => {
    expect(bytes('1048576')).toBe(1048576);
    expect(bytes('256k')).toBe(262144);
    expect(bytes('8M')).toBe(8 * 1024 * 1024);
    expect(() => bytes('lots')).toThrow(/expected a size/);
  });
  it('parses durations to milliseconds', () => {
    expect(duration('500ms')).toBe(500);
    expect(duration('30s')).toBe(30_000);
    expect(duration('7d')).toBe(7 * 86_400_000);
    expect(duration('0')).toBe(0);
    expect(() => duration('soon')).toThrow(/expected a duration/);
  });
});
