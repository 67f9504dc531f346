import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Sql } from '../db/index.js';
import { isTransientDbError } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { Breakers } from '../runtime/breakers.js';
import { webhookDeliveriesTotal, webhookSeconds } from '../metrics.js';
import { newSecret, sign } from './signing.js';
import {
  isRefusal,
  pinnedLookup,
  resolveTarget,
  type Resolve,
  type WebhookAllowlist,
} from './ssrf.js';

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

/**
 * Sends pending deliveries. Claims take a lease (so another dispatcher, or this one
 * after a crash, sends a delivery whose lease ran out: at least once, with the same
 * webhook-id), a few per endpoint: an endpoint that is slow or dead holds at most
 * `perEndpoint` of the `concurrency` slots, and the others' deliveries go on.
 */
export class Dispatcher {
  private readonly inFlight = new Map<string, number>();
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
          this.total++;
          const p = this.send(c)
            .catch((err: unknown) =>
              this.o.logger.error({ err, delivery: c.id }, 'webhook send failed'),
            )
            .finally(() => {
              this.inFlight.set(c.endpoint, this.inFlight.get(c.endpoint)! - 1);
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

  /** Due deliveries, at most perEndpoint per endpoint less those in flight here. */
  private async claim(room: number): Promise<Claimed[]> {
    const per = this.o.perEndpoint ?? 8;
    // A request outlives its lease only if it runs past the timeout by 5 s; then another
    // dispatcher may send it again, with the same webhook-id.
    const lease = this.o.timeoutMs + 5_000;
    const candidates = await this.o.sql<{ id: string; endpoint: string }[]>`
      SELECT w.id, w.endpoint
      FROM (SELECT DISTINCT endpoint FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= now()) e
      CROSS JOIN LATERAL (
        SELECT id, endpoint FROM webhook_deliveries x
        WHERE x.endpoint = e.endpoint AND x.status = 'pending' AND x.next_attempt_at <= now()
          AND (x.lease_until IS NULL OR x.lease_until < now())
        ORDER BY x.next_attempt_at LIMIT ${per}) w
      LIMIT 1000`;
    const chosen: string[] = [];
    const taking = new Map<string, number>();
    for (const c of candidates) {
      const busy = (this.inFlight.get(c.endpoint) ?? 0) + (taking.get(c.endpoint) ?? 0);
      if (busy >= per) continue;
      taking.set(c.endpoint, (taking.get(c.endpoint) ?? 0) + 1);
      chosen.push(c.id);
      if (chosen.length >= room) break;
    }
    if (chosen.length === 0) return [];
    // The re-check in the WHERE makes the claim safe against other dispatchers.
    return this.o.sql<Claimed[]>`
      UPDATE webhook_deliveries SET lease_until = now() + ${`${lease} milliseconds`}::interval
      WHERE id = ANY(${chosen}::text[]) AND status = 'pending'
        AND (lease_until IS NULL OR lease_until < now())
      RETURNING id, tenant, subscription_id, endpoint, url, event_type, payload, attempts`;
  }

  private async secretOf(c: Claimed): Promise<string | undefined> {
    if (c.subscription_id !== null) {
      const [s] = await this.o.sql<{ secret: string }[]>`
        SELECT secret FROM webhook_subscriptions WHERE id = ${c.subscription_id} AND disabled_at IS NULL`;
      return s?.secret;
    }
    const [s] = await this.o.sql<{ secret: string }[]>`
      INSERT INTO webhook_callback_secrets (tenant, secret) VALUES (${c.tenant}, ${newSecret()})
      ON CONFLICT (tenant) DO UPDATE SET tenant = EXCLUDED.tenant
      RETURNING secret`;
    return s!.secret;
  }

  private async send(c: Claimed): Promise<void> {
    const secret = await this.secretOf(c);
    if (secret === undefined) {
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
      'webhook-signature': sign(secret, c.id, timestamp, body),
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
