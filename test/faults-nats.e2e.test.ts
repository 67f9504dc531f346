import { describe, afterEach, expect, it } from 'vitest';
import { createTestDatabase } from './harness/database.js';
import {
  deadLetters,
  indexedOnce,
  publishAll,
  startFixture,
  type Fixture,
} from './harness/faults.js';
import { until } from './harness/pipeline.js';
import { startNatsServer, type NatsServerHandle } from './harness/servers.js';

/**
 * nats-server killed and restarted under a real Sluice process: it lives, every document
 * is indexed once, nothing is dead-lettered. nats-server stays down past the publishers'
 * 30 s retry deadline (PipelinePublisher, Producer), the budget it must outlast.
 *
 *   npx vitest run test/faults-nats.e2e.test.ts      (FAULT_NATS_OUTAGE_S)
 */
const NATS_OUTAGE_S = Number(process.env.FAULT_NATS_OUTAGE_S ?? 35);

describe('faults: nats-server', () => {
  let fixture: Fixture | undefined;
  let nats: NatsServerHandle | undefined;
  afterEach(async () => {
    await fixture?.cleanup();
    fixture = undefined;
    await nats?.dispose();
    nats = undefined;
  });

  it(
    `nats-server killed (SIGKILL) and back after ${NATS_OUTAGE_S} s: all indexed once, nothing dead-lettered`,
    async () => {
      nats = await startNatsServer();
      const db = await createTestDatabase();
      fixture = await startFixture({ natsUrl: nats.url, databaseUrl: db.url });
      const { nc, namespace, proc } = fixture;
      const cleanup = fixture.cleanup;
      fixture.cleanup = async () => {
        await cleanup();
        await db.drop();
      };
      const versions = new Map<string, number>();
      const N = 1_000;
      await publishAll(nc, namespace, N, versions);
      await until(async () => (await indexedOnce(db, versions)) >= 50, 120_000, '50 indexed');
      await nats.kill();
      await new Promise((r) => setTimeout(r, NATS_OUTAGE_S * 1000));
      expect(proc.child.exitCode, proc.output()).toBeNull();
      await nats.start();
      const back = Date.now();
      await until(
        async () => (await indexedOnce(db, versions)) === N,
        300_000,
        `all ${N} indexed after NATS came back`,
      );
      expect(proc.child.exitCode, proc.output()).toBeNull();
      expect(await deadLetters(nc, namespace)).toBe(0);
      console.log(
        `nats-server killed for ${NATS_OUTAGE_S} s: ${N} documents indexed once, 0 dead letters, ` +
          `caught up ${((Date.now() - back) / 1000).toFixed(1)} s after it came back`,
      );
    },
    NATS_OUTAGE_S * 1000 + 600_000,
  );
});
