import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { deleteNamespace } from '../src/topology/index.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { client } from './harness/http.js';
import { testModelsDir } from './harness/models.js';
import { startOtlpReceiver } from './harness/otlp-receiver.js';
import { pipelineConfig, pipelineModel, until } from './harness/pipeline.js';
import { startSluice, waitForLog, type SluiceProcess } from './harness/process.js';
import { freePort } from './harness/servers.js';
import { documentTracePath, reachedEnd, traceTree } from './harness/traces.js';

/**
 * Roles split over two processes, each exporting over OTLP/HTTP to a receiver as to a
 * collector: one document published over HTTP is still one trace, its parent links
 * crossing from one process to the other through the messages' headers.
 */
describe('tracing across processes', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let config: Config;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let front: SluiceProcess;
  let workers: SluiceProcess;
  let port: number;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    db = await createTestDatabase();
    config = pipelineConfig(db.url);
    port = await freePort();
    const env = {
      LOG_FORMAT: 'json',
      NATS_URL: config.natsUrl.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_MODELS_DIR: testModelsDir(),
      SLUICE_MODELS: pipelineModel,
      SLUICE_AUTH: 'off',
      SLUICE_DEFAULT_TENANT: 'acme',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // Export every 200 ms instead of every 5 s (a standard variable the SDK reads).
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    front = startSluice(['start', '--roles', 'api,chunker'], {
      ...env,
      SLUICE_HTTP_PORT: String(port),
      OTEL_SERVICE_NAME: 'sluice-front',
    });
    await waitForLog(front, 'sluice started', 120_000);
    workers = startSluice(['start', '--roles', 'embedder,indexer,projector'], {
      ...env,
      SLUICE_HTTP_PORT: String(await freePort()),
      OTEL_SERVICE_NAME: 'sluice-workers',
    });
    await waitForLog(workers, 'sluice started', 120_000);
    nc = await connect({ servers: config.natsUrl });
  }, 300_000);
  afterAll(async () => {
    await front?.kill('SIGTERM').catch(() => {});
    await workers?.kill('SIGTERM').catch(() => {});
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
    await receiver?.close();
  });

  it('one document: one trace over two processes, ingest → chunk → embed → index → project', async () => {
    const traceId = 'ee'.repeat(16);
    const res = await client(`http://127.0.0.1:${port}`).post(
      '/v1/events',
      {
        specversion: '1.0',
        id: 'traced-e2e',
        source: 'urn:test',
        type: 'sluice.document.upserted.v1',
        data: {
          tenant: 'acme',
          collection: 'kb',
          documentId: 'traced',
          text: 'A trace crosses processes in the headers of the messages between them.',
        },
      },
      { traceparent: `00-${traceId}-${'ff'.repeat(8)}-01` },
    );
    expect(res.status).toBe(202);
    const ours = () => receiver.spans.filter((s) => s.traceId === traceId);
    const projected = (s: { name: string; attributes: Record<string, unknown> }) =>
      s.name === 'process status' &&
      s.attributes['messaging.consumer.group.name'] === 'proj-documents-status';
    await until(
      () => reachedEnd(ours(), projected),
      60_000,
      'the projection span of the indexed status, at the end of the whole path, was exported',
    );
    const spans = ours();
    const tree = traceTree(spans);
    expect(tree.orphans).toEqual([]);
    expect(tree.roots).toEqual(['ff'.repeat(8)]);
    expect(tree.paths(projected)).toContainEqual(documentTracePath);
    // Which process exported each step of that path.
    const service = (name: string, group?: string) =>
      spans.find(
        (s) =>
          s.name === name &&
          (group === undefined || s.attributes['messaging.consumer.group.name'] === group),
      )?.service;
    expect(service('POST /v1/events')).toBe('sluice-front');
    expect(service('process events', 'chunker')).toBe('sluice-front');
    expect(service('process chunks')).toBe('sluice-workers');
    expect(service('process vectors', 'indexer')).toBe('sluice-workers');
    expect(service('process status', 'proj-documents-status')).toBe('sluice-workers');
    // The embedder's batch span (its own trace) links to this document's message.
    expect(
      receiver.spans.some((s) => s.name === 'embed' && s.links.some((l) => l.traceId === traceId)),
    ).toBe(true);
    console.log(
      `one trace, ${spans.length} spans from ${new Set(spans.map((s) => s.service)).size} processes`,
    );
  }, 90_000);
});
