import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { startNatsServer, startPostgres } from './servers.js';

describe('test harness servers', () => {
  it('starts a private nats-server whose JetStream data survives a restart', async () => {
    const server = await startNatsServer();
    try {
      let nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      await jetstream(nc).publish('keep.1', 'x');
      await nc.close();

      await server.kill();
      await server.start();
      nc = await connect({ servers: server.url });
      const info = await (await jetstreamManager(nc)).streams.info('KEEP');
      expect(info.state.messages).toBe(1);
      await nc.close();
    } finally {
      await server.dispose();
    }
  });

  it('starts a private PostgreSQL that can be stopped and started again', async () => {
    const pg = await startPostgres();
    try {
      let sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      await sql`CREATE TABLE t (x int)`;
      await sql`INSERT INTO t VALUES (1)`;
      await sql.end();

      await pg.stop('immediate');
      sql = postgres(pg.url, { max: 1, connect_timeout: 2, onnotice: () => {} });
      await expect(sql`SELECT 1`).rejects.toThrow(/ECONNREFUSED|connect/);
      await sql.end();

      await pg.start();
      sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      const rows = await sql`SELECT x FROM t`;
      expect(rows).toEqual([{ x: 1 }]);
      await sql.end();
    } finally {
      await pg.dispose();
    }
  });
});
