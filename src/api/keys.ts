import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../db/index.js';

/**
 * Who is calling. A key acts for its tenant only. `admin` lets it manage that tenant's
 * dead letters and search settings; `operator` (which implies admin) lets it act on the
 * whole installation: every tenant's dead letters, and replays.
 */
export interface Principal {
  keyId: string;
  tenant: string;
  admin: boolean;
  operator: boolean;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Keys look like `sk_<id>_<secret>`: the id names the key in logs and limits, the secret proves it. */
const KEY = /^sk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export async function createKey(
  sql: Sql,
  o: { tenant: string; admin?: boolean; operator?: boolean; name?: string },
): Promise<{ id: string; key: string }> {
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  await sql`
    INSERT INTO api_keys (id, secret_hash, tenant, admin, operator, name)
    VALUES (${id}, ${sha256(secret).toString('hex')}, ${o.tenant},
            ${(o.admin ?? false) || (o.operator ?? false)}, ${o.operator ?? false}, ${o.name ?? null})`;
  return { id, key: `sk_${id}_${secret}` };
}

export async function revokeKey(sql: Sql, id: string): Promise<boolean> {
  const rows =
    await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL RETURNING id`;
  return rows.length > 0;
}

export async function listKeys(sql: Sql): Promise<
  {
    id: string;
    tenant: string;
    admin: boolean;
    operator: boolean;
    name: string | null;
    createdAt: string;
    revoked: boolean;
  }[]
> {
  const rows = await sql<
    {
      id: string;
      tenant: string;
      admin: boolean;
      operator: boolean;
      name: string | null;
      created_at: Date | string;
      revoked_at: Date | string | null;
    }[]
  >`
    SELECT id, tenant, admin, operator, name, created_at, revoked_at FROM api_keys ORDER BY created_at`;
  return rows.map((r) => ({
    id: r.id,
    tenant: r.tenant,
    admin: r.admin,
    operator: r.operator,
    name: r.name,
    createdAt: new Date(r.created_at).toISOString(),
    revoked: r.revoked_at !== null,
  }));
}

/**
 * Verifies presented keys against the table, caching what it learns for a few seconds
 * so a request costs no query (a revoked key stops working within `ttlMs`).
 */
export class KeyVerifier {
  private readonly cache = new Map<
    string,
    { row: { hash: Buffer; tenant: string; admin: boolean; operator: boolean } | null; at: number }
  >();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = 5_000,
  ) {}

  async verify(presented: string): Promise<Principal | undefined> {
    const m = KEY.exec(presented.trim());
    if (!m) return undefined;
    const [, id, secret] = m as unknown as [string, string, string];
    let entry = this.cache.get(id);
    if (!entry || Date.now() - entry.at > this.ttlMs) {
      const [row] = await this.sql<
        { secret_hash: string; tenant: string; admin: boolean; operator: boolean }[]
      >`
        SELECT secret_hash, tenant, admin, operator FROM api_keys
        WHERE id = ${id} AND revoked_at IS NULL`;
      entry = {
        row: row
          ? {
              hash: Buffer.from(row.secret_hash, 'hex'),
              tenant: row.tenant,
              admin: row.admin || row.operator,
              operator: row.operator,
            }
          : null,
        at: Date.now(),
      };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(id, entry);
    }
    if (!entry.row || !timingSafeEqual(entry.row.hash, sha256(secret))) return undefined;
    const { tenant, admin, operator } = entry.row;
    return { keyId: id, tenant, admin, operator };
  }
}
