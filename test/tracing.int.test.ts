import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app/start.js';
import type { Config } from '../src/config/index.js';
import { Subjects } from '../src/topology/index.js';
import { startTracing, type Tracing } from '../src/tracing/provider.js';
import { startTestApp, type TestApp } from './harness/app.js';
import { client } from './harness/http.js';
import { memoryLogger } from './harness/log-sink.js';
import { until } from './harness/pipeline.js';
import { documentTracePath, reachedEnd, traceTree } from './harness/traces.js';

/**
 * Tracing in one process, with the SDK's in-memory exporter: a document published over
 * HTTP with a caller's traceparent yields one trace, in that caller's trace, whose spans
 * cover every stage with the messaging attributes, parent links intact. (Across two
 * processes, over OTLP: test/tracing.e2e.test.ts.)
 */
describe('tracing', () => {
  let t: TestApp;
  let nc: NatsConnection;
  let config: Config;
  let app: RunningApp;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const log = memoryLogger('debug');

  beforeAll(async () => {
    tracing = startTracing({ exporter, roles: ['all'] })!;
    t = await startTestApp(
      {
        roles: ['api', 'chunker', 'embedder', 'indexer', 'projector'],
        auth: 'off',
        defaultTenant: 'acme',
      },
      log.logger,
    );
    ({ nc, config, app } = t);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await tracing?.shutdown();
  });

  it('one document over HTTP: one trace from ingest to projection, parents intact', async () => {
    const address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string })
      .address;
    const traceId = 'aa'.repeat(16);
    const res = await client(address).post(
      '/v1/events',
      {
        specversion: '1.0',
        id: 'traced-1',
        source: 'urn:test',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant: 'acme',
          collection: 'kb',
          documentId: 'traced',
          text: 'Tracing follows one document through every stage of the pipeline.',
        },
      },
      { traceparent: `00-${traceId}-${'bb'.repeat(8)}-01` },
    );
    expect(res.status).toBe(202);
    const isProjection = (s: { name: string; attributes: Record<string, unknown> }) =>
      s.name === 'process status' &&
      s.attributes['messaging.consumer.group.name'] === 'proj-documents-status';
    const ours = () =>
      exporter
        .getFinishedSpans()
        .filter((s) => s.spanContext().traceId === traceId)
        .map((s) => ({
          name: s.name,
          spanId: s.spanContext().spanId,
          parentSpanId: s.parentSpanContext?.spanId,
          attributes: s.attributes,
        }));
    await until(
      () => reachedEnd(ours(), isProjection),
      60_000,
      'the projection handled the indexed status, at the end of the whole path',
    );
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const tree = traceTree(ours());
    // The caller's span is the root; every other span's parent is in the trace.
    expect(tree.orphans).toEqual([]);
    expect(tree.roots).toEqual(['bb'.repeat(8)]);
    // Every stage, in order along one path: ingest → chunk → embed → index → project.
    expect(tree.paths((s) => s.name === 'process vectors')).toContainEqual(
      documentTracePath.slice(0, 7),
    );
    expect(tree.paths((s) => s.name === 'process status' && isProjection(s))).toContainEqual(
      documentTracePath,
    );

    const processEvents = spans.find((s) => s.name === 'process events')!;
    expect(processEvents.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.operation.name': 'process',
      'messaging.consumer.group.name': 'chunker',
      'sluice.tenant': 'acme',
      'sluice.collection': 'kb',
      'sluice.document.id': 'traced',
      'sluice.chunk.count': 1,
    });
    expect(String(processEvents.attributes['messaging.destination.name'])).toMatch(
      new RegExp(`^${config.namespace}\\.events\\.acme\\.kb\\.`),
    );
    expect(processEvents.attributes['sluice.token.count']).toBeGreaterThan(5);

    // The embedder's batch span links to the message it embedded.
    const embed = exporter.getFinishedSpans().find((s) => s.name === 'embed' && linksTo(s));
    expect(embed?.attributes).toMatchObject({ 'sluice.chunk.count': 1 });
    expect(embed?.attributes['sluice.model']).toBeTypeOf('string');
    function linksTo(s: ReadableSpan): boolean {
      return s.links.some((l) => l.context.traceId === traceId);
    }
    expect(exporter.getFinishedSpans().some((s) => s.name === 'index' && linksTo(s))).toBe(true);
  }, 90_000);

  it("a message's log lines name its trace and span; a raw publish's traceparent is followed", async () => {
    const traceId = 'cc'.repeat(16);
    const h = headers();
    h.set('traceparent', `00-${traceId}-${'dd'.repeat(8)}-01`);
    h.set('ce-specversion', '1.0');
    h.set('ce-id', 'not-json');
    h.set('ce-source', 'urn:test');
    h.set('ce-type', 'sluice.document.upserted.v1');
    await jetstream(nc).publish(
      new Subjects(config.namespace).event({ tenant: 'acme', collection: 'kb', documentId: 'bad' }),
      '{ not json',
      { headers: h },
    );
    await until(() => log.lines.some((l) => l.msg === 'dead-lettered' && l.trace_id === traceId));
    const line = log.lines.find((l) => l.msg === 'dead-lettered' && l.trace_id === traceId)!;
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === line.span_id)!;
    expect(span.name).toBe('process events');
    expect(span.parentSpanContext?.spanId).toBe('dd'.repeat(8));
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['sluice.retry.decision']).toBe('dead-letter');
  });

  it('a search is a server span with its embedding and SQL as children', async () => {
    const address = (app.roles.find((r) => r.name === 'api') as unknown as { address: string })
      .address;
    exporter.reset();
    const res = await client(address).post('/v1/search', {
      query: 'pipeline stages',
      collection: 'kb',
      mode: 'hybrid',
    });
    expect(res.status).toBe(200);
    await until(() => exporter.getFinishedSpans().some((s) => s.name === 'POST /v1/search'));
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'POST /v1/search')!;
    const children = spans
      .filter((s) => s.parentSpanContext?.spanId === server.spanContext().spanId)
      .map((s) => s.name)
      .sort();
    expect(children).toEqual(['embed query', 'search']);
    expect(server.attributes['http.response.status_code']).toBe(200);
  });
});
