import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { SluiceError } from '../errors/index.js';

/**
 * The outbound guard: every HTTP request Sluice makes to a URL a user gave (an event's
 * callbackUrl, a webhook subscription) goes through it, at ingest, when a subscription
 * is made and when the request connects. It refuses loopback, private, link-local,
 * unique-local, carrier-grade NAT, unspecified, multicast, reserved and documentation
 * ranges, and every IPv6 form that carries an IPv4 address (mapped, compatible, NAT64,
 * 6to4, Teredo): a host is judged by each address it is written as or resolves to.
 * The WHATWG URL parser already turns 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into
 * 127.0.0.1; what it leaves in IPv6 brackets is judged here.
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT (and Alibaba's metadata 100.100.100.200)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24], // 6to4 relays
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4], // reserved and broadcast
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (::a.b.c.d)
  ['::ffff:0:0:0', 96], // IPv4-translated
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:10::', 28], // ORCHID
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique-local (and AWS's metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some)
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Hosts and networks webhooks may reach even though they are private (SLUICE_WEBHOOK_ALLOW). */
export class WebhookAllowlist {
  private readonly hosts = new Set<string>();
  private readonly nets = new BlockList();

  constructor(entries: string[]) {
    for (const e of entries) {
      const [addr, bits] = e.split('/');
      const family = isIP(addr ?? '');
      if (family !== 0)
        this.nets.addSubnet(
          addr!,
          bits === undefined ? (family === 4 ? 32 : 128) : Number(bits),
          family === 4 ? 'ipv4' : 'ipv6',
        );
      else this.hosts.add(e.toLowerCase());
    }
  }

  allowsHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  allowsAddress(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.nets.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** IPv4 mapped into IPv6 (::ffff:a.b.c.d, or ::ffff:7f00:1) as the IPv4 address it carries. */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

/** Whether an IP address is one webhooks may not reach (without an allowlist entry). */
export function isBlockedAddress(address: string): boolean {
  const a = unmapped(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  const family = isIP(a);
  if (family === 0) return true;
  return blocked.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

const refused = (url: string, why: string): SluiceError =>
  new SluiceError('WEBHOOK_TARGET_REFUSED', `webhook target ${url} refused: ${why}`, {
    details: { pointer: '/url' },
  });

/** Whether an error is the guard's refusal (permanent), not a failure to resolve or connect. */
export const isRefusal = (err: unknown): boolean =>
  err instanceof SluiceError && err.code === 'WEBHOOK_TARGET_REFUSED';

/** A resolver: tests give one that answers without DNS. */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

export const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses: LookupAddress[]) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

/** The URL parsed and its form checked: http or https, no credentials. */
function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(raw, 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(raw, 'only http and https are allowed');
  if (url.username || url.password) throw refused(raw, 'credentials in the URL are not allowed');
  return url;
}

/**
 * The addresses a request to the URL may connect to: the literal address, or every
 * address its host resolves to, each of which must be allowed (one refused address
 * refuses the host: DNS answers rotate, and a name that mixes a public and a private
 * address is an attack). Throws WEBHOOK_TARGET_REFUSED, or the resolver's error when
 * the name does not resolve now (retryable at send time).
 */
export async function resolveTarget(
  raw: string,
  allow: WebhookAllowlist,
  resolve: Resolve = resolveAll,
): Promise<{ url: URL; addresses: LookupAddress[] }> {
  const url = parseTarget(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  const hostAllowed = allow.allowsHost(host);
  const addresses: LookupAddress[] =
    family !== 0 ? [{ address: host, family }] : await resolve(host);
  if (addresses.length === 0) throw refused(raw, `${host} does not resolve`);
  if (!hostAllowed)
    for (const a of addresses)
      if (isBlockedAddress(a.address) && !allow.allowsAddress(a.address))
        throw refused(
          raw,
          `${host} is or resolves to a private, loopback, link-local or reserved address (${a.address})`,
        );
  return { url, addresses };
}

/**
 * Checks a target URL when it is given (subscription, ingest): its form, and its
 * addresses now. A name that does not resolve is refused too.
 */
export async function checkTarget(
  raw: string,
  allow: WebhookAllowlist,
  resolve: Resolve = resolveAll,
): Promise<URL> {
  try {
    return (await resolveTarget(raw, allow, resolve)).url;
  } catch (err) {
    if (isRefusal(err)) throw err;
    const host = URL.canParse(raw) ? new URL(raw).hostname : raw;
    throw refused(raw, `${host} does not resolve`);
  }
}

/**
 * A `lookup` for http.request that answers only the addresses the guard checked: the
 * connection goes to an address that was judged, never to a second DNS answer
 * (rebinding). Node skips `lookup` for a literal address, which resolveTarget judged.
 */
export function pinnedLookup(addresses: LookupAddress[]) {
  return (
    _hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}
