import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLOCKED_ADDRESS_CODE,
  MAX_WEBHOOK_URL_LENGTH,
  checkWebhookUrl,
  createSafeLookup,
  isBlockedAddress,
} from '../../../src/webhooks/target-guard.js';

describe('isBlockedAddress', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.10.2', /loopback/],
    ['::1', /loopback/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.254', /private/],
    ['192.168.1.10', /private/],
    ['fc00::1', /private/],
    ['fd12:3456:789a::1', /private/],
    ['169.254.1.1', /link-local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['169.254.169.254', /cloud metadata/],
    ['fd00:ec2::254', /cloud metadata/],
    ['100.100.100.200', /cloud metadata/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['::', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.10', /reserved/],
    ['198.18.0.1', /reserved/],
    ['2001:db8::1', /reserved/],
    ['::7f00:1', /reserved/], // IPv4-compatible, deprecated
    ['4000::1', /reserved/], // outside 2000::/3
    // IPv4 inside IPv6 is judged as the IPv4 address
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:10.1.2.3', /private/],
    ['::ffff:169.254.169.254', /cloud metadata/],
    ['::ffff:0:192.168.0.1', /private/], // SIIT translated
    ['64:ff9b::a9fe:a9fe', /cloud metadata/], // NAT64 of 169.254.169.254
    ['2002:7f00:1::', /loopback/], // 6to4 of 127.0.0.1
    ['[::1]', /loopback/],
    ['not-an-ip', /not an IP/],
    ['', /not an IP/],
  ])('blocks %s', (ip, reason) => {
    expect(isBlockedAddress(ip)).toMatch(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '2a00:1450:4001::200e', '::ffff:93.184.216.34', '64:ff9b::808:808', '2002:5db8:d822::1'])(
    'allows public %s',
    (ip) => {
      expect(isBlockedAddress(ip)).toBeNull();
    },
  );

  it('blocks every address inside 10.0.0.0/8', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)), ([b, c, d]) => isBlockedAddress(`10.${b}.${c}.${d}`) !== null),
    );
  });

  it('judges IPv4-mapped IPv6 exactly as the IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => (isBlockedAddress(ip) === null) === (isBlockedAddress(`::ffff:${ip}`) === null)),
    );
  });
});

describe('checkWebhookUrl', () => {
  const strict = { allowPrivate: false, requireHttps: true };
  const dev = { allowPrivate: false, requireHttps: false };
  const open = { allowPrivate: true, requireHttps: false };

  it('accepts public http(s) URLs and returns them parsed', () => {
    const result = checkWebhookUrl('https://hooks.example.com/afterview?x=1', strict);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.url.hostname).toBe('hooks.example.com');
    expect(checkWebhookUrl('http://hooks.example.com/in', dev).ok).toBe(true);
    expect(checkWebhookUrl('https://93.184.216.34:8443/in', strict).ok).toBe(true);
    expect(checkWebhookUrl('https://[2606:4700::1111]/in', strict).ok).toBe(true);
  });

  it.each([
    ['ftp://example.com/x', dev, /http and https/],
    ['file:///etc/passwd', dev, /http and https/],
    ['javascript:alert(1)', dev, /http and https/],
    ['not a url', dev, /valid absolute URL/],
    ['/relative/path', dev, /valid absolute URL/],
    ['http://hooks.example.com/in', strict, /only https/],
    ['https://user:pass@hooks.example.com/in', strict, /credentials/],
    ['https://token@hooks.example.com/in', strict, /credentials/],
    [`https://hooks.example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, strict, /longer than/],
    ['https://127.0.0.1/in', strict, /loopback/],
    ['https://[::1]:8443/in', strict, /loopback/],
    ['https://[::ffff:127.0.0.1]/in', strict, /loopback/],
    ['https://2130706433/in', strict, /loopback/], // 127.0.0.1 as one number; URL normalises it
    ['https://0x7f.1/in', strict, /loopback/],
    ['https://10.1.2.3/in', strict, /private/],
    ['https://169.254.169.254/latest/meta-data', strict, /cloud metadata/],
    ['https://[fd00:ec2::254]/', strict, /cloud metadata/],
    ['https://0.0.0.0/', strict, /unspecified/],
    ['https://localhost/in', strict, /loopback host name/],
    ['https://LOCALHOST./in', strict, /loopback host name/],
    ['https://api.localhost/in', strict, /loopback host name/],
  ])('refuses %s', (url, options, reason) => {
    const result = checkWebhookUrl(url, options);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('lets private and loopback targets through with allowPrivate', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/in', open).ok).toBe(true);
    expect(checkWebhookUrl('http://localhost:8080/in', open).ok).toBe(true);
    expect(checkWebhookUrl('http://10.0.0.5/in', open).ok).toBe(true);
    // …but not the other rules
    expect(checkWebhookUrl('ftp://127.0.0.1/in', open).ok).toBe(false);
    expect(checkWebhookUrl('http://127.0.0.1/in', { allowPrivate: true, requireHttps: true }).ok).toBe(false);
  });
});

describe('createSafeLookup', () => {
  const fakeDns = (answers: Record<string, string[]>) =>
    ((hostname: string, _options: unknown, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
      const found = answers[hostname];
      if (!found) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      callback(null, found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    });
  const resolve = fakeDns({
    'public.example': ['93.184.216.34', '2606:4700::1111'],
    'rebound.example': ['127.0.0.1'],
    'metadata.example': ['169.254.169.254', 'fd00:ec2::254'],
    'mixed.example': ['10.0.0.7', '93.184.216.34'],
  });

  function lookup(allowPrivate: boolean, hostname: string, all: boolean) {
    const safe = createSafeLookup({ allowPrivate, resolve });
    return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((done) =>
      safe(hostname, { all }, (err, address, family) => done({ err, address, family })),
    );
  }

  it('passes public addresses through, in both calling conventions', async () => {
    expect(await lookup(false, 'public.example', false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    const all = await lookup(false, 'public.example', true);
    expect(all.err).toBeNull();
    expect(all.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  it('refuses a name that resolves only to blocked addresses, with a recognisable code', async () => {
    for (const all of [true, false]) {
      const rebound = await lookup(false, 'rebound.example', all);
      expect(rebound.err?.code).toBe(BLOCKED_ADDRESS_CODE);
      expect(rebound.err?.message).toMatch(/loopback/);
      const metadata = await lookup(false, 'metadata.example', all);
      expect(metadata.err?.code).toBe(BLOCKED_ADDRESS_CODE);
      expect(metadata.err?.message).toMatch(/cloud metadata/);
    }
  });

  it('drops blocked addresses and keeps the allowed ones', async () => {
    expect(await lookup(false, 'mixed.example', false)).toMatchObject({ err: null, address: '93.184.216.34' });
    expect((await lookup(false, 'mixed.example', true)).address).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('allows everything with allowPrivate, and passes DNS errors on', async () => {
    expect(await lookup(true, 'rebound.example', false)).toMatchObject({ err: null, address: '127.0.0.1' });
    expect((await lookup(false, 'missing.example', false)).err?.code).toBe('ENOTFOUND');
  });
});
