import { createHash } from 'node:crypto';

/**
 * The JetStream message id that deduplicates an event: its id within its tenant and
 * source (CloudEvents ids are unique per source), never across tenants, so one tenant's
 * id can neither swallow another tenant's event nor reveal its sequence.
 */
export function dedupeId(event: { id: string; source: string; data: { tenant: string } }): string {
  return createHash('sha256')
    .update(`${event.data.tenant}\u0000${event.source}\u0000${event.id}`)
    .digest('base64url');
}
