export interface Candidate {
  id: string;
  tenant: string;
  endpoint: string;
}

/**
 * Which due deliveries to claim: tenants take turns (round-robin, starting one further
 * each claim), each taking its next candidate while it has fewer than `perTenant` in
 * flight and the candidate's endpoint fewer than `perEndpoint`. A tenant's dead
 * endpoints or callback flood thus hold at most `perTenant` of the slots, and every
 * other tenant with work gets the next free one.
 */
export function chooseFair(
  candidates: Candidate[],
  o: {
    room: number;
    perEndpoint: number;
    perTenant: number;
    endpointBusy: (endpoint: string) => number;
    tenantBusy: (tenant: string) => number;
    turn: number;
  },
): string[] {
  const queues = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const q = queues.get(c.tenant);
    if (q) q.push(c);
    else queues.set(c.tenant, [c]);
  }
  const tenants = [...queues.keys()].sort();
  const start = tenants.length === 0 ? 0 : o.turn % tenants.length;
  const order = [...tenants.slice(start), ...tenants.slice(0, start)];
  const byEndpoint = new Map<string, number>();
  const byTenant = new Map<string, number>();
  const chosen: string[] = [];
  for (let progress = true; progress && chosen.length < o.room;) {
    progress = false;
    for (const tenant of order) {
      if (chosen.length >= o.room) break;
      const q = queues.get(tenant)!;
      if (o.tenantBusy(tenant) + (byTenant.get(tenant) ?? 0) >= o.perTenant) continue;
      // This tenant's next candidate whose endpoint has room.
      const i = q.findIndex(
        (c) => o.endpointBusy(c.endpoint) + (byEndpoint.get(c.endpoint) ?? 0) < o.perEndpoint,
      );
      if (i < 0) continue;
      const [c] = q.splice(i, 1);
      byEndpoint.set(c!.endpoint, (byEndpoint.get(c!.endpoint) ?? 0) + 1);
      byTenant.set(tenant, (byTenant.get(tenant) ?? 0) + 1);
      chosen.push(c!.id);
      progress = true;
    }
  }
  return chosen;
}
