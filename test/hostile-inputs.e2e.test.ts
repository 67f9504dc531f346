import { request } from 'node:http';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/api/keys.js';
import type { Config } from '../src/config/index.js';
import { DeadLetters } from '../src/dead-letters/index.js';
import { PipelinePublisher } from '../src/runtime/publisher.js';
import { dedupeId } from '../src/producers/index.js';
import { errorCodes } from '../src/errors/index.js';
import { Subjects, deleteNamespace, streamName } from '../src/topology/index.js';
import { HEALTHZ_BOUND_MS, healthProbe } from './harness/health-probe.js';
import { createTestDatabase, type TestDatabase } from './harness/database.js';
import { testModelsDir } from './harness/models.js';
import { pipelineConfig, pipelineModel, until } from './harness/pipeline.js';
import { startSluice, waitForLog, type SluiceProcess } from './harness/process.js';
import { freePort } from './harness/servers.js';
import {
  badAttribute,
  brokenJson,
  deepJson,
  int,
  pick,
  random,
  unstorableChar,
  unusualTexts,
  validEvent,
  wrongType,
  type Rand,
} from './hostile/generate.js';

/**
 * At least 1,000 generated hostile inputs, over HTTP ingest and raw NATS publishes,
 * mixed into a stream of valid documents, against a real Sluice process. Every input
 * must end rejected with a stable code, deduplicated, indexed, or in exactly one dead
 * letter with a stable code; every valid document indexed once and in no dead letter;
 * the process alive; /healthz answering throughout (within HEALTHZ_BOUND_MS: no freeze).
 *
 *   npx vitest run test/hostile-inputs.e2e.test.ts     (prints the table)
 */

type Expect = 'indexed' | 'not-indexed' | 'duplicate';
type Sent =
  { kind: 'rejected'; code: string } | { kind: 'duplicate' } | { kind: 'accepted'; seq: number };
interface Input {
  category: string;
  channel: 'http' | 'nats';
  expect: Expect;
  send: () => Promise<Sent>;
  /** Sent after every input of phase 1 (the second of a duplicate pair). */
  phase?: 2;
  /** What was sent, shortened, for failure messages. */
  what?: string;
}
interface Result {
  input: Input;
  outcome: string;
  code?: string;
  seq?: number;
  letters?: number;
  /** When more than one letter: each letter's code and the durable that wrote it. */
  writers?: string[];
}

const SEED = 20261130;
const COLLECTION = 'docs';

describe('hostile inputs', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let config: Config;
  let proc: SluiceProcess;
  let address: string;
  const keys = { acme: '', beta: '' };
  let subjects: Subjects;

  beforeAll(async () => {
    db = await createTestDatabase();
    config = pipelineConfig(db.url);
    subjects = new Subjects(config.namespace);
    const port = await freePort();
    address = `http://127.0.0.1:${port}`;
    keys.acme = (await createKey(db.sql, { tenant: 'acme' })).key;
    keys.beta = (await createKey(db.sql, { tenant: 'beta' })).key;
    proc = startSluice(['start'], {
      LOG_FORMAT: 'json',

      NATS_URL: config.natsUrl.join(','),
      DATABASE_URL: db.url,
      SLUICE_NAMESPACE: config.namespace,
      SLUICE_MODELS_DIR: testModelsDir(),
      SLUICE_MODELS: pipelineModel,
      SLUICE_HTTP_PORT: String(port),
      SLUICE_HTTP_HOST: '127.0.0.1',
      SLUICE_HTTP_BODY_LIMIT: '8M',
      SLUICE_MAX_DOCUMENT_BYTES: '2M',
      SLUICE_RETRY_BACKOFF: '500ms',
      SLUICE_ACK_WAIT: '10s',
      SLUICE_RATE_LIMIT: '100000',
    });
    await waitForLog(proc, 'sluice started', 120_000);
    nc = await connect({ servers: config.natsUrl });
    js = jetstream(nc);
  }, 180_000);
  afterAll(async () => {
    await proc?.kill('SIGTERM');
    await deleteNamespace(nc, config.namespace);
    await nc?.close();
    await db?.drop();
  });

  /**
   * POST /v1/events with node:http, not fetch: a server answers an oversized body (413)
   * before reading it and closes the socket, and fetch reports only the broken pipe.
   */
  const post = (
    tenant: 'acme' | 'beta',
    body: string | Buffer,
    contentType = 'application/json',
  ): Promise<{ status: number; json: any }> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${address}/v1/events`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${keys[tenant]}`,
            'content-type': contentType,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString();
            let json: any;
            try {
              json = JSON.parse(text);
            } catch {
              json = { unparsed: text.slice(0, 200) };
            }
            resolve({ status: res.statusCode!, json });
          });
        },
      );
      let answered = false;
      req.on('response', () => (answered = true));
      req.on('error', (err) => {
        if (!answered) reject(new Error(`${err.message} sending ${Buffer.byteLength(body)} bytes`));
      });
      // A large body waits a moment for an early answer (413 on its Content-Length), as a
      // client sending Expect: 100-continue would: a server that refuses a body closes the
      // connection without reading it, and the answer can be lost under the reset.
      if (Buffer.byteLength(body) < 1 << 20) req.end(body);
      else {
        req.flushHeaders();
        setTimeout(() => {
          if (!answered) req.end(body);
        }, 500);
      }
    });

  /** One event in one request: what became of it. */
  const sendHttp = async (
    tenant: 'acme' | 'beta',
    body: string | Buffer,
    contentType?: string,
  ): Promise<Sent> => {
    const { status, json } = await post(tenant, body, contentType);
    const r = json.results?.[0];
    if (status === 202 && r?.status === 'accepted') return { kind: 'accepted', seq: r.version };
    if (status === 202 && r?.status === 'duplicate') return { kind: 'duplicate' };
    return { kind: 'rejected', code: json.error?.code ?? r?.error?.code ?? `HTTP ${status}` };
  };

  const sendNats = async (
    subject: string,
    payload: string | Uint8Array,
    o: { structured?: boolean; msgID?: string } = {},
  ): Promise<Sent> => {
    const h = headers();
    if (o.structured !== false) h.set('content-type', 'application/cloudevents+json');
    try {
      const ack = await js.publish(subject, payload, {
        headers: h,
        ...(o.msgID ? { msgID: o.msgID } : {}),
      });
      return ack.duplicate ? { kind: 'duplicate' } : { kind: 'accepted', seq: ack.seq };
    } catch (err) {
      return { kind: 'rejected', code: `NATS: ${(err as Error).message}` };
    }
  };

  it('ends every input rejected, deduplicated, indexed or dead-lettered, with a stable code', async () => {
    const r: Rand = random(SEED);
    let n = 0;
    const docId = (prefix: string): string => `${prefix}-${n++}`;
    const event = (tenant: string, prefix: string, text?: string) => {
      const documentId = docId(prefix);
      return validEvent(r, {
        tenant,
        collection: COLLECTION,
        documentId,
        id: `ev-${documentId}`,
        ...(text === undefined ? {} : { text }),
      });
    };
    const subjectOf = (e: Record<string, unknown>, tenant?: string): string => {
      const d = e.data as { tenant?: unknown; documentId?: unknown } | undefined;
      const t = tenant ?? (typeof d?.tenant === 'string' ? d.tenant : 'acme');
      const id = typeof d?.documentId === 'string' && d.documentId !== '' ? d.documentId : 'x';
      return subjects.event({
        tenant: /^[a-z0-9][a-z0-9_-]{0,62}$/.test(t) ? t : 'acme',
        collection: COLLECTION,
        documentId: id,
      });
    };
    const inputs: Input[] = [];
    const add = (
      category: string,
      channel: Input['channel'],
      expect: Expect,
      send: Input['send'],
      phase?: 2,
      what?: string | Buffer,
    ): Input => {
      const input: Input = {
        category,
        channel,
        expect,
        send,
        ...(phase ? { phase } : {}),
        ...(what === undefined
          ? {}
          : { what: `${String(what).slice(0, 80)} … ${String(what).slice(-160)}` }),
      };
      inputs.push(input);
      return input;
    };

    // Valid documents, over both channels, in plain and unusual scripts.
    for (let i = 0; i < 150; i++) {
      const e = event(pick(r, ['acme', 'beta']), 'valid');
      const t = (e.data as { tenant: 'acme' | 'beta' }).tenant;
      add('valid', 'http', 'indexed', () => sendHttp(t, JSON.stringify(e)));
    }
    for (const [kind, make] of Object.entries(unusualTexts))
      for (let i = 0; i < 12; i++) {
        const e = event('acme', `unusual-${kind}`, make(r));
        if (r() < 0.5)
          add(`valid: ${kind}`, 'http', 'indexed', () => sendHttp('acme', JSON.stringify(e)));
        else
          add(`valid: ${kind}`, 'nats', 'indexed', () =>
            sendNats(subjectOf(e), JSON.stringify(e), { msgID: dedupeId(e as never) }),
          );
      }
    for (let i = 0; i < 100; i++) {
      const e = event(pick(r, ['acme', 'beta']), 'valid-nats');
      add('valid', 'nats', 'indexed', () =>
        sendNats(subjectOf(e), JSON.stringify(e), { msgID: dedupeId(e as never) }),
      );
    }
    for (let i = 0; i < 5; i++) {
      const e = event('acme', 'empty', '');
      add('valid: empty text', 'http', 'indexed', () => sendHttp('acme', JSON.stringify(e)));
    }
    for (let i = 0; i < 4; i++) {
      const e = event('acme', 'large', unusualTexts.cjk!(r).repeat(int(r, 20, 60)));
      add('valid: large (claim-checked)', 'http', 'indexed', () =>
        sendHttp('acme', JSON.stringify(e)),
      );
    }

    // Not JSON, or not only JSON.
    for (let i = 0; i < 60; i++) {
      const body = brokenJson(r, JSON.stringify(event('acme', 'broken')));
      add('broken JSON', 'http', 'not-indexed', () => sendHttp('acme', body), undefined, body);
    }
    for (let i = 0; i < 60; i++) {
      const e = event('acme', 'broken-nats');
      const body = brokenJson(r, JSON.stringify(e));
      add(
        'broken JSON',
        'nats',
        'not-indexed',
        () => sendNats(subjectOf(e), body),
        undefined,
        body,
      );
    }
    // Wrong types and malformed attributes.
    for (let i = 0; i < 100; i++) {
      const e = wrongType(r, event('acme', 'wrong-type'));
      add(
        'wrong type',
        'http',
        'not-indexed',
        () => sendHttp('acme', JSON.stringify(e)),
        undefined,
        JSON.stringify(e),
      );
    }
    for (let i = 0; i < 60; i++) {
      const e = wrongType(r, event('acme', 'wrong-type-nats'));
      add(
        'wrong type',
        'nats',
        'not-indexed',
        () => sendNats(subjectOf(e, 'acme'), JSON.stringify(e)),
        undefined,
        JSON.stringify(e),
      );
    }
    for (let i = 0; i < 110; i++) {
      const e = badAttribute(r, event('acme', 'attribute'));
      add(
        'malformed attribute',
        'http',
        'not-indexed',
        () => sendHttp('acme', JSON.stringify(e)),
        undefined,
        JSON.stringify(e),
      );
    }
    for (let i = 0; i < 50; i++) {
      const e = badAttribute(r, event('acme', 'attribute-nats'));
      add(
        'malformed attribute',
        'nats',
        'not-indexed',
        () => sendNats(subjectOf(e, 'acme'), JSON.stringify(e)),
        undefined,
        JSON.stringify(e),
      );
    }
    // What PostgreSQL cannot store.
    for (const [char, label] of [
      ['\u0000', 'NUL'],
      ['surrogate', 'lone surrogate'],
    ] as const) {
      for (let i = 0; i < 50; i++) {
        const e = unstorableChar(r, event('acme', `unstorable-${i}`), char);
        add(label, 'http', 'not-indexed', () => sendHttp('acme', JSON.stringify(e)));
      }
      for (let i = 0; i < 30; i++) {
        const e = unstorableChar(r, event('acme', `unstorable-nats-${i}`), char);
        add(label, 'nats', 'not-indexed', () => sendNats(subjectOf(e, 'acme'), JSON.stringify(e)));
      }
    }
    // Invalid UTF-8 bytes inside an otherwise valid event, raw.
    for (let i = 0; i < 20; i++) {
      const e = event('acme', 'bad-utf8');
      const json = Buffer.from(JSON.stringify(e));
      const at = json.indexOf('"text":"') + 10;
      const bytes = Buffer.concat([
        json.subarray(0, at),
        Buffer.from([0xc3, 0x28, 0xa0, 0xff]),
        json.subarray(at),
      ]);
      add('invalid UTF-8', 'nats', 'not-indexed', () => sendNats(subjectOf(e), bytes));
      add('invalid UTF-8', 'http', 'not-indexed', () => sendHttp('acme', bytes));
    }
    // Huge and deep.
    for (const depth of [100, 1_000, 10_000, 100_000]) {
      const base = event('acme', 'deep');
      add('deep JSON', 'http', 'not-indexed', () => sendHttp('acme', deepJson(base, depth)));
      add('deep JSON', 'nats', 'not-indexed', () =>
        sendNats(subjectOf(base), deepJson(base, depth)),
      );
    }
    for (let i = 0; i < 3; i++) {
      const tooLarge = event('acme', 'too-large', 'y '.repeat(1_100_000 + i));
      add('huge', 'http', 'not-indexed', () => sendHttp('acme', JSON.stringify(tooLarge)));
    }
    add('huge', 'http', 'not-indexed', () => sendHttp('acme', 'x'.repeat(9 * 1024 * 1024)));
    add('huge', 'http', 'not-indexed', () =>
      sendHttp(
        'acme',
        Array.from({ length: 10_001 }, () => JSON.stringify(event('acme', 'many'))).join('\n'),
        'application/x-ndjson',
      ),
    );
    add('huge', 'nats', 'not-indexed', () =>
      sendNats(subjectOf(event('acme', 'nats-huge')), 'z'.repeat(2 * 1024 * 1024)),
    );
    // Duplicate ids, within a tenant (one is stored) and across tenants (both are).
    for (let i = 0; i < 30; i++) {
      const first = event('acme', 'dup');
      const again = {
        ...structuredClone(first),
        data: { ...(first.data as object), documentId: docId('dup-again') },
      };
      add('duplicate id, same tenant', 'http', 'indexed', () =>
        sendHttp('acme', JSON.stringify(first)),
      );
      add(
        'duplicate id, same tenant',
        'http',
        'duplicate',
        () => sendHttp('acme', JSON.stringify(again)),
        2,
      );
    }
    for (let i = 0; i < 30; i++) {
      const a = event('acme', 'cross');
      const b = {
        ...structuredClone(a),
        data: { ...(a.data as object), tenant: 'beta', documentId: docId('cross-beta') },
      };
      add('duplicate id, other tenant', 'http', 'indexed', () =>
        sendHttp('acme', JSON.stringify(a)),
      );
      add('duplicate id, other tenant', 'http', 'indexed', () =>
        sendHttp('beta', JSON.stringify(b)),
      );
    }
    for (let i = 0; i < 20; i++) {
      const e = event('beta', 'dup-nats');
      const id = dedupeId(e as never);
      add('duplicate id, same tenant', 'nats', 'indexed', () =>
        sendNats(subjectOf(e), JSON.stringify(e), { msgID: id }),
      );
      add(
        'duplicate id, same tenant',
        'nats',
        'duplicate',
        () => sendNats(subjectOf(e), JSON.stringify(e), { msgID: id }),
        2,
      );
    }
    // Another tenant's subject, or the key of another tenant.
    for (let i = 0; i < 30; i++) {
      const e = event('beta', 'mismatch');
      add('tenant mismatch', 'nats', 'not-indexed', () =>
        sendNats(subjectOf(e, 'acme'), JSON.stringify(e)),
      );
      add('tenant mismatch', 'http', 'not-indexed', () => sendHttp('acme', JSON.stringify(e)));
    }
    // Unsupported media types.
    for (const type of [
      'text/plain',
      'application/xml',
      'multipart/form-data',
      'application/x-www-form-urlencoded',
      '',
    ]) {
      const e = event('acme', 'media');
      add('media type', 'http', 'not-indexed', () => sendHttp('acme', JSON.stringify(e), type));
    }
    // Claim-check references: made up by a client, or pointing at another tenant's body.
    let betaRef: Record<string, unknown> | undefined;
    const bigBeta = event('beta', 'beta-body', unusualTexts.cjk!(r).repeat(60));
    const betaInput = add('valid: large (claim-checked)', 'http', 'indexed', async () => {
      const sent = await sendHttp('beta', JSON.stringify(bigBeta));
      if (sent.kind === 'accepted') {
        const jsm = await jetstreamManager(nc);
        const m = await jsm.streams.getMessage(streamName(config.namespace, 'events'), {
          seq: sent.seq,
        });
        // Sluice stores events in binary mode: the message body is the event's data.
        betaRef = m!.json<{ textRef: Record<string, unknown> }>().textRef;
      }
      return sent;
    });
    for (let i = 0; i < 20; i++) {
      const e = event('acme', 'textref');
      const d = e.data as Record<string, unknown>;
      delete d.text;
      add('claim-check reference', 'http', 'not-indexed', () => {
        d.textRef = betaRef ?? { bucket: 'x', name: 'y', size: 1, sha256: '0'.repeat(64) };
        return sendHttp('acme', JSON.stringify(e));
      });
      add('claim-check reference', 'nats', 'not-indexed', () => {
        d.textRef =
          i % 2 === 0 && betaRef
            ? betaRef
            : { ...(betaRef ?? {}), name: `acme/${COLLECTION}/missing-${i}` };
        return sendNats(subjectOf(e), JSON.stringify(e));
      });
    }

    expect(inputs.length).toBeGreaterThanOrEqual(1000);
    // Shuffle, so hostile inputs sit between valid ones in every batch.
    for (let i = inputs.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [inputs[i], inputs[j]] = [inputs[j]!, inputs[i]!];
    }
    // The claim-checked beta body goes first: the references to it need its name; the
    // second of each duplicate pair goes after every first.
    inputs.splice(inputs.indexOf(betaInput), 1);
    const ordered = [
      betaInput,
      ...inputs.filter((x) => x.phase === undefined),
      ...inputs.filter((x) => x.phase === 2),
    ];

    const probe = healthProbe(`${address}/healthz`);
    const sent = new Map<Input, Sent>();
    sent.set(betaInput, await betaInput.send());
    const rest = ordered.slice(1);
    const phase1 = rest.filter((x) => x.phase === undefined);
    const phase2 = rest.filter((x) => x.phase === 2);
    for (const phase of [phase1, phase2]) {
      // A few requests at a time.
      const lanes = 6;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < phase.length; i += lanes)
            sent.set(phase[i]!, await phase[i]!.send());
        }),
      );
    }
    expect(proc.child.exitCode, proc.output()).toBeNull();

    const results = await settle(ordered, sent);
    const healthz = await probe.stop();
    expect(proc.child.exitCode, proc.output()).toBeNull();
    printTable(results, healthz);

    // Every input ended one of the four ways, with a code Sluice documents.
    const unresolved = results.filter((x) => x.outcome === 'unresolved');
    expect(
      unresolved.map(
        (x) => `${x.input.category}/${x.input.channel} seq ${x.seq} ${x.input.what ?? ''}`,
      ),
    ).toEqual([]);
    for (const x of results)
      if (x.code !== undefined && x.outcome !== 'unresolved' && !x.code.startsWith('NATS: '))
        expect(Object.keys(errorCodes), `${x.input.category}: ${x.code}`).toContain(x.code);
    // … as each was meant to, one dead letter at most.
    const wrong = results
      .filter((x) =>
        x.input.expect === 'indexed'
          ? x.outcome !== 'indexed'
          : x.input.expect === 'duplicate'
            ? x.outcome !== 'duplicate'
            : x.outcome !== 'rejected' && x.outcome !== 'dead-lettered',
      )
      .map(
        (x) =>
          `${x.input.category}/${x.input.channel}: expected ${x.input.expect}, got ${x.outcome} ${x.code ?? ''} ${x.input.what ?? ''}`,
      );
    expect(wrong).toEqual([]);
    expect(results.filter((x) => (x.letters ?? 0) > 1)).toEqual([]);
    // /healthz answered every probe, each within HEALTHZ_BOUND_MS.
    expect(healthz.length).toBeGreaterThan(10);
    expect(Math.max(...healthz)).toBeLessThanOrEqual(HEALTHZ_BOUND_MS);
  }, 600_000);

  /** Waits until the pipeline is idle, then finds what became of each input. */
  async function settle(inputs: Input[], sent: Map<Input, Sent>): Promise<Result[]> {
    const jsm = await jetstreamManager(nc);
    const retry = streamName(config.namespace, 'retry');
    let quietSince = 0;
    await until(
      async () => {
        let busy = (await jsm.streams.info(retry)).state.messages > 0;
        for await (const s of jsm.streams.list())
          if (s.config.name.startsWith(`${config.namespace.toUpperCase()}_`))
            for await (const c of jsm.consumers.list(s.config.name))
              if (c.num_pending > 0 || c.num_ack_pending > 0) busy = true;
        if (busy) quietSince = 0;
        else quietSince ||= Date.now();
        return quietSince > 0 && Date.now() - quietSince > 3_000;
      },
      240_000,
      'the pipeline to go idle',
    );

    // Dead letters by the event-log sequence they came from.
    const letters = new DeadLetters(
      nc,
      config.namespace,
      new PipelinePublisher({ nc, source: 'urn:test' }),
    );
    const events = streamName(config.namespace, 'events');
    const lettersBySeq = new Map<number, string[]>();
    for (let after = 0; ;) {
      const page = await letters.list({ after, limit: 1000 });
      for (const l of page.items) {
        let seq = l.stream === events ? l.seq : undefined;
        if (seq === undefined) {
          const full = await letters.show(l.id);
          const v = (full?.data as { data?: { version?: unknown } } | undefined)?.data?.version;
          seq = typeof v === 'number' ? v : undefined;
        }
        // The code first, then the durable that wrote it: a second letter names its writer.
        if (seq !== undefined)
          lettersBySeq.set(seq, [...(lettersBySeq.get(seq) ?? []), `${l.code} by ${l.consumer}`]);
      }
      if (page.next === undefined) break;
      after = page.next;
    }
    const rows = await db.sql<
      { version: number; chunk_count: number; rows: number; deleted: boolean }[]
    >`
      SELECT d.version::int AS version, d.chunk_count, d.deleted,
             count(c.chunk_index)::int AS rows
      FROM index_documents d
      LEFT JOIN index_chunks c USING (model_id, tenant, collection, document_id)
      WHERE d.model_id LIKE ${`${pipelineModel}@%`}
      GROUP BY d.version, d.chunk_count, d.deleted`;
    const indexed = new Map(rows.map((x) => [x.version, x]));
    // … and what the documents read model says of each version.
    const status = new Map(
      (
        await db.sql<{ version: number; status: string }[]>`
          SELECT version::int AS version, status FROM proj_documents`
      ).map((x) => [x.version, x.status]),
    );

    return inputs.map((input): Result => {
      const s = sent.get(input)!;
      if (s.kind === 'rejected') return { input, outcome: 'rejected', code: s.code };
      if (s.kind === 'duplicate') return { input, outcome: 'duplicate' };
      const codes = lettersBySeq.get(s.seq);
      if (codes)
        return {
          input,
          outcome: 'dead-lettered',
          code: codes[0]!.split(' by ')[0]!,
          seq: s.seq,
          letters: codes.length,
          ...(codes.length > 1 ? { writers: codes } : {}),
        };
      const row = indexed.get(s.seq);
      if (row && (row.deleted || row.rows === row.chunk_count) && status.get(s.seq) === 'indexed')
        return { input, outcome: 'indexed', seq: s.seq };
      return {
        input,
        outcome: 'unresolved',
        seq: s.seq,
        code: `index ${JSON.stringify(row)}, read model ${status.get(s.seq)}`,
      };
    });
  }
});

function printTable(results: Result[], healthz: number[]): void {
  const outcomes = ['rejected', 'duplicate', 'indexed', 'dead-lettered', 'unresolved'];
  const rows = new Map<string, Map<string, number>>();
  const codes = new Map<string, Set<string>>();
  for (const x of results) {
    const key = `${x.input.category} (${x.input.channel})`;
    const row = rows.get(key) ?? new Map<string, number>();
    row.set(x.outcome, (row.get(x.outcome) ?? 0) + 1);
    rows.set(key, row);
    if (x.code) codes.set(key, (codes.get(key) ?? new Set()).add(x.code.slice(0, 40)));
  }
  const lines = [
    `| input (channel) | ${outcomes.join(' | ')} | codes |`,
    `| --- | ${outcomes.map(() => '---:').join(' | ')} | --- |`,
    ...[...rows.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, row]) =>
          `| ${k} | ${outcomes.map((o) => row.get(o) ?? 0).join(' | ')} | ${[...(codes.get(k) ?? [])].sort().join(', ')} |`,
      ),
  ];
  const sorted = [...healthz].sort((a, b) => a - b);
  console.log(
    `\nHostile inputs: ${results.length} (seed ${SEED})\n\n${lines.join('\n')}\n\n` +
      `/healthz: ${healthz.length} probes, p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(1)} ms\n`,
  );
}
