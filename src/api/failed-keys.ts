/**
 * Failed key checks in one-minute windows, counted per client address *and* key id
 * (the `sk_<id>_` prefix; `malformed` for anything else). Past the limit that pair is
 * answered 429 before its key is looked up, so guessing the secret of a key costs the
 * database nothing, while every other key from the same address (behind a proxy or a
 * NAT: everyone's) is still checked: a flood of bad keys never locks out a valid one.
 */
export class FailedKeys {
  private readonly counts = new Map<string, { n: number; since: number }>();

  /** @param limit failures per address and key id per minute (SLUICE_AUTH_FAILURES). */
  constructor(private readonly limit: number) {}

  /** Seconds until this address may try this key again, or 0 when it may now. */
  blockedFor(address: string, presented: string, now = Date.now()): number {
    const e = this.counts.get(bucket(address, presented));
    if (!e || now - e.since >= 60_000) return 0;
    return e.n >= this.limit ? Math.ceil((e.since + 60_000 - now) / 1000) : 0;
  }

  fail(address: string, presented: string, now = Date.now()): void {
    const k = bucket(address, presented);
    const e = this.counts.get(k);
    if (!e || now - e.since >= 60_000) {
      if (this.counts.size > 100_000) this.counts.clear();
      this.counts.set(k, { n: 1, since: now });
    } else e.n++;
  }
}

function bucket(address: string, presented: string): string {
  const id = /^sk_([a-z0-9]{12})_/.exec(presented)?.[1] ?? 'malformed';
  return `${address}\u0000${id}`;
}
