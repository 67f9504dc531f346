import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { SluiceError } from '../errors/index.js';

/**
 * Where webhooks may not go unless allowed: loopback, private, link-local, unique-local,
 * carrier-grade NAT, unspecified, multicast and documentation ranges, and IPv4 mapped
 * into IPv6. A target is checked when a subscription is made and again for the address
 * each request actually connects to (DNS may change in between).
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
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

/** Whether an IP address is one webhooks may not reach (without an allowlist entry). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // IPv4 mapped into IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isBlockedAddress(mapped[1]!);
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const refused = (url: string, why: string): SluiceError =>
  new SluiceError('WEBHOOK_TARGET_REFUSED', `webhook target ${url} refused: ${why}`, {
    details: { pointer: '/url' },
  });

/**
 * Checks a target URL: http or https, no credentials, and a host that is not (and
 * does not resolve to) a refused address, unless the allowlist names it.
 */
export async function checkTarget(raw: string, allow: WebhookAllowlist): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(raw, 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(raw, 'only http and https are allowed');
  if (url.username || url.password) throw refused(raw, 'credentials in the URL are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (allow.allowsHost(host)) return url;
  const addresses = isIP(host) ? [host] : await resolveAll(host).catch(() => []);
  if (addresses.length === 0) throw refused(raw, `${host} does not resolve`);
  for (const a of addresses)
    if (isBlockedAddress(a) && !allow.allowsAddress(a))
      throw refused(raw, `${host} is a private, loopback or link-local address (${a})`);
  return url;
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, addresses: LookupAddress[]) =>
      err ? reject(err) : resolve(addresses.map((a) => a.address)),
    ),
  );
}

/**
 * A `lookup` for http.request that refuses to connect to a blocked address: the check
 * applies to the address actually used, so a name that resolved to a public address
 * when the subscription was made cannot be pointed at a private one later.
 */
export function guardedLookup(allow: WebhookAllowlist) {
  return (
    hostname: string,
    options: object,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '');
      const ok = addresses.filter(
        (a) =>
          allow.allowsHost(hostname) ||
          !isBlockedAddress(a.address) ||
          allow.allowsAddress(a.address),
      );
      if (ok.length === 0)
        return callback(refused(hostname, `${hostname} resolves to refused addresses only`), '');
      if ((options as { all?: boolean }).all) return callback(null, ok);
      callback(null, ok[0]!.address, ok[0]!.family);
    });
  };
}
