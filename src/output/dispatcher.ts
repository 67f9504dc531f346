import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Sql } from '../db/index.js';
import { isTransientDbError } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Breakers } from '../runtime/index.js';
import { webhookDeliveriesTotal, webhookSeconds } from '../metrics.js';
import { newSecret, sign } from './signing.js';
import {
  isRefusal,
  pinnedLookup,
  resolveTarget,
  type Resolve,
  type WebhookAllowlist,
} from './ssrf.js';
import { chooseFair, type Candidate } from './choose-fair.js';

export { chooseFair } from './choose-fair.js';

export interface DispatcherOptions {
  sql: Sql;
  logger: Logger;
  allow: WebhookAllowlist;
  /** Per request. @defaultValue 10_000 */
  timeoutMs: number;
  /** Attempts before a delivery is dead. @defaultValue 15 */
  maxAttempts: number;
  /** First retry delay, doubled each attempt (with jitter), up to an hour. */
  backoffMs: number;
  /** Requests in flight per endpoint. @defaultValue 8 */
  perEndpoint?: number;
  /** Requests in flight in all. @defaultValue 64 */
  concurrency?: number;
  /** Requests in flight for one tenant. @defaultValue 16 */
  perTenant?: number;
  /** Between looks at the table when nothing wakes it. @defaultValue 500 */
  pollMs?: number;
  /** The process's breakers: while PostgreSQL is down the dispatcher waits, quietly. */
  breakers?: Breakers;
  /** How names are resolved (tests answer without DNS). @defaultValue DNS */
  resolve?: Resolve;
}

interface Claimed {
  id: string;
  tenant: string;
  subscription_id: string | null;
  endpoint: string;
  url: string;
  event_type: string;
  payload: unknown;
  attempts: number;
}

const EXCERPT = 256;

function release(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

/** Due deliveries a claim looks at per tenant: the oldest, spread over endpoints. */
const SCAN_PER_TENANT = 1_000;

/**
 * Sends pending deliveries. Claims take a lease (so another dispatcher, or this one
 * after a crash, sends a delivery whose lease ran out: at least once, with the same
 * webhook-id), a few per endpoint and per tenant, tenants taking turns (chooseFair):
 * an endpoint that is slow or dead holds at most `perEndpoint` of the `concurrency`
 * slots, a tenant at most `perTenant`, and the others' deliveries go on.
 */
export class Dispatcher {
  private readonly inFlight = new Map<string, number>();
  private readonly inFlightTenant = new Map<string, number>();
  private turn = 0;
  private total = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly sending = new Set<Promise<void>>();
  private lastWarning = 0;
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((r) => (this.signalStop = r));

  constructor(private readonly o: DispatcherOptions) {}

  async start(): Promise<void> {
    const l = await this.o.sql.listen('sluice_webhooks', () => this.kick());
    this.unlisten = () => l.unlisten();
    this.loop = this.run();
  }

  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.kick();
    await this.loop;
    await Promise.all(this.sending);
    // UNLISTEN on a connection an outage broke may never answer: do not wait on it.
    await Promise.race([
      this.unlisten?.().catch(() => {}),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
  }

  private async run(): Promise<void> {
    const concurrency = this.o.concurrency ?? 64;
    while (!this.stopping) {
      let claimed: Claimed[] = [];
      if (this.total < concurrency) {
        try {
          claimed = await this.claim(concurrency - this.total);
        } catch (err) {
          // PostgreSQL down: wait for it with everyone else, without a warning a second.
          if (
            isTransientDbError(err) &&
            this.o.breakers &&
            (await this.o.breakers.trip('postgres', (err as Error).message))
          ) {
            await Promise.race([this.o.breakers.waitClosed(), this.stopped]);
            continue;
          }
          if (Date.now() - this.lastWarning > 10_000) {
            this.lastWarning = Date.now();
            this.o.logger.warn({ err }, 'webhooks: could not claim deliveries');
          }
        }
        for (const c of claimed) {
          this.inFlight.set(c.endpoint, (this.inFlight.get(c.endpoint) ?? 0) + 1);
          this.inFlightTenant.set(c.tenant, (this.inFlightTenant.get(c.tenant) ?? 0) + 1);
          this.total++;
          const p = this.send(c)
            .catch((err: unknown) =>
              this.o.logger.error({ err, delivery: c.id }, 'webhook send failed'),
            )
            .finally(() => {
              release(this.inFlight, c.endpoint);
              release(this.inFlightTenant, c.tenant);
              this.total--;
              this.sending.delete(p);
              this.kick();
            });
          this.sending.add(p);
        }
      }
      if (claimed.length === 0 || this.total >= concurrency)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.o.pollMs ?? 500);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
    }
  }

  /**
   * Due deliveries, chosen fairly (chooseFair) among each tenant's oldest: up to
   * SCAN_PER_TENANT of them, at most perEndpoint per endpoint, perTenant per tenant.
   */
  private async claim(room: number): Promise<Claimed[]> {
    const per = this.o.perEndpoint ?? 8;
    const perTenant = this.o.perTenant ?? 16;
    // A request outlives its lease only if it runs past the timeout by 5 s; then another
    // dispatcher may send it again, with the same webhook-id.
    const lease = this.o.timeoutMs + 5_000;
    const candidates = await this.o.sql<Candidate[]>`
      SELECT w.id, w.tenant, w.endpoint
      FROM (SELECT DISTINCT tenant FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now()) t
      CROSS JOIN LATERAL (
        SELECT y.id, y.tenant, y.endpoint FROM (
          SELECT x.id, x.tenant, x.endpoint, x.next_attempt_at,
                 row_number() OVER (PARTITION BY x.endpoint ORDER BY x.next_attempt_at) AS r
          FROM (SELECT id, tenant, endpoint, next_attempt_at FROM webhook_deliveries
                WHERE tenant = t.tenant AND status = 'pending' AND next_attempt_at <= now()
                  AND (lease_until IS NULL OR lease_until < now())
                ORDER BY next_attempt_at LIMIT ${SCAN_PER_TENANT}) x) y
        WHERE y.r <= ${per}
        ORDER BY y.r, y.next_attempt_at LIMIT ${perTenant}) w
      LIMIT 10000`;
    const chosen = chooseFair(candidates, {
      room,
      perEndpoint: per,
      perTenant,
      endpointBusy: (e) => this.inFlight.get(e) ?? 0,
      tenantBusy: (t) => this.inFlightTenant.get(t) ?? 0,
      turn: this.turn++,
    });
    if (chosen.length === 0) return [];
    // The re-check in the WHERE makes the claim safe against other dispatchers.
    return this.o.sql<Claimed[]>`
      UPDATE webhook_deliveries SET lease_until = now() + ${`${lease} milliseconds`}::interval
      WHERE id = ANY(${chosen}::text[]) AND status = 'pending'
        AND (lease_until IS NULL OR lease_until < now())
      RETURNING id, tenant, subscription_id, endpoint, url, event_type, payload, attempts`;
  }

  /**
   * The secrets to sign with: the current one, and the one before it while its overlap
   * after a rotation lasts (receivers verify either; Standard Webhooks allows several
   * space-separated signatures). None when the subscription is gone or disabled.
   */
  private async secretsOf(c: Claimed): Promise<string[] | undefined> {
    type Row = { secret: string; previous: string | null };
    const [s] =
      c.subscription_id !== null
        ? await this.o.sql<Row[]>`
            SELECT secret, CASE WHEN previous_until > now() THEN previous_secret END AS previous
            FROM webhook_subscriptions WHERE id = ${c.subscription_id} AND disabled_at IS NULL`
        : await this.o.sql<Row[]>`
            INSERT INTO webhook_callback_secrets (tenant, secret) VALUES (${c.tenant}, ${newSecret()})
            ON CONFLICT (tenant) DO UPDATE SET tenant = EXCLUDED.tenant
            RETURNING secret, CASE WHEN previous_until > now() THEN previous_secret END AS previous`;
    if (!s) return undefined;
    return s.previous === null ? [s.secret] : [s.secret, s.previous];
  }

  private async send(c: Claimed): Promise<void> {
    const secrets = await this.secretsOf(c);
    if (secrets === undefined) {
      await this.o
        .sql`UPDATE webhook_deliveries SET status = 'cancelled', lease_until = null WHERE id = ${c.id}`;
      return;
    }
    const body = JSON.stringify(c.payload);
    const timestamp = Math.floor(Date.now() / 1000);
    const attempt = c.attempts + 1;
    const started = performance.now();
    const r = await this.post(c.url, body, {
      'content-type': 'application/json',
      'user-agent': 'Sluice-Webhooks/1',
      'webhook-id': c.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': secrets.map((s) => sign(s, c.id, timestamp, body)).join(' '),
    });
    const latencyMs = Math.round(performance.now() - started);
    const label = c.subscription_id === null ? 'callback' : 'subscription';
    webhookSeconds.observe({ target: label }, latencyMs / 1000);
    const ok = r.status !== undefined && r.status >= 200 && r.status < 300;
    const gone = r.status === 410;
    const outcome = ok
      ? 'succeeded'
      : gone
        ? 'gone'
        : r.refused || attempt >= this.o.maxAttempts
          ? 'dead'
          : 'retry';
    webhookDeliveriesTotal.inc({ target: label, outcome });
    await this.o.sql.begin(async (txn) => {
      const tx = txn as unknown as Sql;
      await tx`
        INSERT INTO webhook_attempts (delivery_id, attempt, subscription_id, tenant, status, latency_ms, error, excerpt)
        VALUES (${c.id}, ${attempt}, ${c.subscription_id}, ${c.tenant}, ${r.status ?? null}, ${latencyMs},
                ${r.error ?? null}, ${r.excerpt ?? null})
        ON CONFLICT DO NOTHING`;
      if (outcome === 'retry') {
        const delay =
          Math.min(3_600_000, this.o.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        await tx`
          UPDATE webhook_deliveries SET attempts = ${attempt}, lease_until = null, last_status = ${r.status ?? null},
            last_error = ${r.error ?? null}, next_attempt_at = now() + ${`${Math.round(delay)} milliseconds`}::interval
          WHERE id = ${c.id}`;
        return;
      }
      await tx`
        UPDATE webhook_deliveries SET attempts = ${attempt}, lease_until = null, last_status = ${r.status ?? null},
          last_error = ${r.error ?? null}, status = ${outcome},
          delivered_at = ${ok ? new Date().toISOString() : null}
        WHERE id = ${c.id}`;
      if (gone && c.subscription_id !== null) {
        await tx`
          UPDATE webhook_subscriptions SET disabled_at = now(), disabled_reason = '410 Gone from the endpoint'
          WHERE id = ${c.subscription_id} AND disabled_at IS NULL`;
        await tx`UPDATE webhook_deliveries SET status = 'cancelled' WHERE subscription_id = ${c.subscription_id} AND status = 'pending'`;
        this.o.logger.warn(
          { subscription: c.subscription_id },
          'webhook endpoint answered 410: subscription disabled',
        );
      }
    });
  }

  /**
   * One POST, bounded by the timeout. The guard judges the URL's literal address or
   * every address its name resolves to, and the request connects only to those: a
   * refused target is `refused` (permanent), a name that does not resolve now is an
   * error like any other (retried).
   */
  private async post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status?: number; error?: string; excerpt?: string; refused?: boolean }> {
    let target: Awaited<ReturnType<typeof resolveTarget>>;
    try {
      target = await resolveTarget(url, this.o.allow, this.o.resolve);
    } catch (err) {
      return { error: (err as Error).message.slice(0, 300), refused: isRefusal(err) };
    }
    const u = target.url;
    return new Promise((resolve) => {
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          lookup: pinnedLookup(target.addresses),
          timeout: this.o.timeoutMs,
        },
        (res: IncomingMessage) => {
          let excerpt = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (excerpt.length < EXCERPT) excerpt += chunk.slice(0, EXCERPT - excerpt.length);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, excerpt }));
          res.on('error', (err) => resolve({ status: res.statusCode ?? 0, error: err.message }));
        },
      );
      const deadline = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ error: err.message.slice(0, 300) }));
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }
}
