import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  WebhookAllowlist,
  checkTarget,
  isBlockedAddress,
  resolveTarget,
  type Resolve,
} from './ssrf.js';

/** Names answered without DNS: what a hostile DNS server could say. */
const names: Record<string, string[]> = {
  'public.test': ['93.184.216.34'],
  'public6.test': ['2606:4700:4700::1111'],
  'localhost.test': ['127.0.0.1'],
  'rebind.test': ['93.184.216.34', '127.0.0.1'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'nat64.test': ['64:ff9b::a9fe:a9fe'],
};
const resolve: Resolve = (host) => {
  const a = names[host];
  if (!a)
    return Promise.reject(Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  return Promise.resolve(
    a.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
};
const none = new WebhookAllowlist([]);

describe('the outbound guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['100.100.100.200', true],
    ['0.0.0.0', true],
    ['192.88.99.1', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['::1', true],
    ['::', true],
    ['::7f00:1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['fd00::1', true],
    ['fd00:ec2::254', true],
    ['fec0::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:a9fe:a9fe', true],
    ['::ffff:808:808', false],
    ['64:ff9b::7f00:1', true],
    ['64:ff9b::808:808', true],
    ['2002:7f00:1::1', true],
    ['2001:0:4136:e378::1', true],
    ['2001:db8::1', true],
    ['ff02::1', true],
    ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
  ])('address %s refused: %s', (address, expected) => {
    expect(isBlockedAddress(address)).toBe(expected);
  });

  // Every spelling the WHATWG URL parser accepts for a refused address.
  it.each([
    'http://127.0.0.1:8080/cb',
    'http://2130706433/cb',
    'http://0x7f.1/cb',
    'http://0x7f000001/cb',
    'http://0177.0.0.1/cb',
    'http://127.1/cb',
    'http://%31%32%37.0.0.1/cb',
    'http://①②⑦.0.0.1/cb',
    'http://0.0.0.0/cb',
    'http://0/cb',
    'http://[::]/cb',
    'http://[::1]/cb',
    'http://[0:0:0:0:0:0:0:1]/cb',
    'http://[::ffff:7f00:1]/cb',
    'http://[::ffff:127.0.0.1]/cb',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/cb',
    'http://[::127.0.0.1]/cb',
    'http://[64:ff9b::127.0.0.1]/cb',
    'http://[2002:7f00:1::]/cb',
    'http://[fe80::1]/cb',
    'http://[fd00:ec2::254]/latest/meta-data',
    'http://169.254.169.254/latest/meta-data',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://2852039166/',
    'http://100.100.100.200/',
    'http://10.0.0.5/',
    'https://192.168.0.1/',
    'http://localhost.test/',
    'http://rebind.test/',
    'http://mapped.test/',
    'http://nat64.test/',
  ])('refuses %s', async (url) => {
    await expect(resolveTarget(url, none, resolve)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
    });
  });

  it.each([
    ['ftp://8.8.8.8/x', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['http://user:pw@8.8.8.8/', /credentials/],
    ['not a url', /not a URL/],
    ['http://nowhere.test/', /does not resolve/],
  ])('refuses %s when it is given', async (url, why) => {
    await expect(checkTarget(url, none, resolve)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
      message: expect.stringMatching(why),
    });
  });

  it('at send time, a name that does not resolve now is an error to retry, not a refusal', async () => {
    await expect(resolveTarget('http://nowhere.test/', none, resolve)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  it('accepts public addresses and names, and private ones the allowlist names', async () => {
    for (const url of [
      'https://8.8.8.8/hook',
      'http://[2606:4700:4700::1111]/x',
      'http://[::ffff:8.8.8.8]/x',
      'http://public.test/x',
      'http://public6.test/x',
    ])
      await expect(resolveTarget(url, none, resolve), url).resolves.toMatchObject({
        url: expect.any(URL),
      });
    const allow = new WebhookAllowlist(['127.0.0.0/8', 'receiver.internal']);
    await expect(checkTarget('http://127.0.0.1:9/x', allow, resolve)).resolves.toBeInstanceOf(URL);
    await expect(checkTarget('http://[::ffff:7f00:1]/x', allow, resolve)).resolves.toBeInstanceOf(
      URL,
    );
    await expect(
      checkTarget('http://receiver.internal/x', allow, () => resolve('localhost.test')),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkTarget('http://10.0.0.1/x', allow, resolve)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
    });
  });
});
