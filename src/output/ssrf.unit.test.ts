import { describe, expect, it } from 'vitest';
import { WebhookAllowlist, checkTarget, isBlockedAddress } from './ssrf.js';

describe('webhook targets', () => {
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
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
  ])('%s blocked: %s', (address, expected) => {
    expect(isBlockedAddress(address)).toBe(expected);
  });

  const none = new WebhookAllowlist([]);
  it.each([
    ['ftp://8.8.8.8/x', /only http and https/],
    ['file:///etc/passwd', /only http and https/],
    ['http://user:pw@8.8.8.8/', /credentials/],
    ['http://127.0.0.1:8080/hook', /loopback|private/],
    ['http://[::1]/hook', /loopback|private/],
    ['http://169.254.169.254/latest/meta-data', /link-local|private/],
    ['http://10.0.0.5/', /private/],
    ['http://localhost/', /private|loopback/],
    ['not a url', /not a URL/],
  ])('refuses %s', async (url, why) => {
    await expect(checkTarget(url, none)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
      message: expect.stringMatching(why),
    });
  });

  it('accepts public addresses, and private ones the allowlist names', async () => {
    await expect(checkTarget('https://8.8.8.8/hook', none)).resolves.toBeInstanceOf(URL);
    const allow = new WebhookAllowlist(['127.0.0.0/8', 'receiver.internal']);
    await expect(checkTarget('http://127.0.0.1:9/x', allow)).resolves.toBeInstanceOf(URL);
    await expect(checkTarget('http://receiver.internal/x', allow)).resolves.toBeInstanceOf(URL);
    await expect(checkTarget('http://10.0.0.1/x', allow)).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
    });
  });
});
