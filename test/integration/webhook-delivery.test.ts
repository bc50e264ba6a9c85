import type { LookupAddress, LookupOptions } from 'node:dns';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { closeWebhookAgents, parseRetryAfter, postWebhook } from '../../src/webhooks/http-delivery.js';
import type { PostWebhookInput } from '../../src/webhooks/http-delivery.js';
import { generateWebhookSecret, signWebhook } from '../../src/webhooks/signing.js';
import { type WebhookReceiver, startWebhookReceiver } from '../support/webhook-receiver.js';

// A host name that "DNS" resolves to 127.0.0.1, so the connect-time guard (not the URL check) is
// what stands between the request and the loopback receiver, as in a DNS rebinding attack.
const REBINDING_HOST = 'partner-rebinding.afterview.test';

vi.mock('node:dns', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:dns')>();
  type Callback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;
  const lookup = (hostname: string, options: LookupOptions, callback: Callback) => {
    if (hostname === REBINDING_HOST) {
      process.nextTick(() => callback(null, [{ address: '127.0.0.1', family: 4 }]));
      return;
    }
    (actual.lookup as unknown as (h: string, o: LookupOptions, c: Callback) => void)(hostname, options, callback);
  };
  return { ...actual, lookup, default: { ...actual, lookup } };
});

const receivers: WebhookReceiver[] = [];
async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const r = await startWebhookReceiver(options);
  receivers.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await closeWebhookAgents();
});

const body = JSON.stringify({ type: 'followup.sent', timestamp: new Date().toISOString(), data: { messageId: 'msg_1' } });

function post(url: string, overrides: Partial<PostWebhookInput> = {}) {
  return postWebhook({ url, body, headers: {}, allowPrivate: true, requireHttps: false, ...overrides });
}

describe('postWebhook against real HTTP receivers', () => {
  it('2xx → delivered; the receiver gets a signed JSON POST that verifies with standardwebhooks', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver({ secrets: [secret], respond: () => ({ status: 200, body: '{"ok":true}' }) });
    const headers = signWebhook({ id: 'msg_delivery_1', timestamp: new Date(), body, secrets: [secret] });

    const result = await post(r.url, { headers });

    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, retryAfterMs: null, error: null, responseExcerpt: '{"ok":true}' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [request] = await r.waitFor(1);
    expect(request).toMatchObject({ method: 'POST', path: '/webhooks', rawBody: body, verified: true, verifiedWith: [secret] });
    expect(request!.json).toEqual(JSON.parse(body));
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe('Afterview-Webhooks/1');
    expect(request!.headers['webhook-id']).toBe('msg_delivery_1');
  });

  it('during a rotation both the old and the new secret verify the same request', async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const stranger = generateWebhookSecret();
    const r = await receiver({ secrets: [oldSecret, newSecret, stranger] });
    const headers = signWebhook({ id: 'msg_rot', timestamp: new Date(), body, secrets: [newSecret, oldSecret] });

    expect((await post(r.url, { headers })).outcome).toBe('delivered');
    const [request] = await r.waitFor(1);
    expect(request!.verifiedWith).toEqual([oldSecret, newSecret]);
    expect(request!.signatures[2]).toMatchObject({ verified: false });
  });

  it('a receiver detects a body that does not match its signature', async () => {
    const secret = generateWebhookSecret();
    const r = await receiver({ secrets: [secret] });
    const headers = signWebhook({ id: 'msg_t', timestamp: new Date(), body, secrets: [secret] });
    await post(r.url, { headers, body: body.replace('msg_1', 'msg_2') });
    const [request] = await r.waitFor(1);
    expect(request!.verified).toBe(false);
    expect(request!.signatures[0]!.error).toMatch(/No matching signature/);
  });

  it('500 → failed with the status code', async () => {
    const r = await receiver({ respond: () => ({ status: 500, body: 'boom' }) });
    expect(await post(r.url)).toMatchObject({ outcome: 'failed', statusCode: 500, error: 'HTTP 500', responseExcerpt: 'boom', retryAfterMs: null });
  });

  it('410 → gone', async () => {
    const r = await receiver({ respond: () => ({ status: 410 }) });
    expect(await post(r.url)).toMatchObject({ outcome: 'gone', statusCode: 410 });
  });

  it('429 with Retry-After in seconds → failed with retryAfterMs', async () => {
    const r = await receiver({ respond: () => ({ status: 429, headers: { 'retry-after': '120' } }) });
    expect(await post(r.url)).toMatchObject({ outcome: 'failed', statusCode: 429, retryAfterMs: 120_000 });
  });

  it('503 with Retry-After as an HTTP date → failed with the time until then', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const r = await receiver({ respond: () => ({ status: 503, headers: { 'retry-after': at } }) });
    const result = await post(r.url);
    expect(result).toMatchObject({ outcome: 'failed', statusCode: 503 });
    // toUTCString drops the milliseconds, so up to one second less, plus the request's own time
    expect(result.retryAfterMs).toBeGreaterThan(85_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(90_000);
  });

  it('ignores Retry-After on other statuses', async () => {
    const r = await receiver({ respond: () => ({ status: 500, headers: { 'retry-after': '60' } }) });
    expect((await post(r.url)).retryAfterMs).toBeNull();
  });

  it('a receiver that never answers → failed once the timeout expires', async () => {
    const r = await receiver({ respond: () => ({ status: 200, hang: true }) });
    const started = Date.now();
    const result = await post(r.url, { timeoutMs: 500 });
    expect(result).toMatchObject({ outcome: 'failed', statusCode: null });
    expect(result.error).toMatch(/timed out after 500 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(r.requests).toHaveLength(1);
  });

  it('a slow answer inside the timeout is delivered', async () => {
    const r = await receiver({ respond: () => ({ status: 204, delayMs: 200 }) });
    expect(await post(r.url, { timeoutMs: 2_000 })).toMatchObject({ outcome: 'delivered', statusCode: 204, responseExcerpt: null });
  });

  it('a refused connection → failed with the connection error', async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    const result = await post(url);
    expect(result).toMatchObject({ outcome: 'failed', statusCode: null });
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('302 → failed; the redirect is not followed', async () => {
    const target = await receiver();
    const redirecting = await receiver({ respond: () => ({ status: 302, headers: { location: target.url } }) });
    const result = await post(redirecting.url);
    expect(result).toMatchObject({ outcome: 'failed', statusCode: 302 });
    expect(result.error).toMatch(/redirect/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.requests).toHaveLength(0);
  });

  it('a huge response body (50 MB) is cut at the cap: quick, delivered, 1 KiB excerpt', async () => {
    const total = 50 * 1024 * 1024;
    const r = await receiver({ respond: () => ({ status: 200, streamBytes: total }) });
    const started = Date.now();
    const result = await post(r.url, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, error: null });
    expect(result.responseExcerpt).toHaveLength(1024);
    expect(Date.now() - started).toBeLessThan(2_000);
    // The connection was closed after 64 KiB: the server could not push the rest.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.bytesStreamed).toBeLessThan(total / 2);
  });

  it('a 200 whose body never finishes ends at the timeout, still delivered (the status is the answer)', async () => {
    const r = await receiver({ respond: () => ({ status: 200, body: 'partial', hangBody: true }) });
    const result = await post(r.url, { timeoutMs: 500 });
    expect(result).toMatchObject({ outcome: 'delivered', statusCode: 200, responseExcerpt: 'partial' });
    expect(result.error).toBe('response body timed out');
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it('a 500 whose body never finishes is failed at the timeout', async () => {
    const r = await receiver({ respond: () => ({ status: 500, hangBody: true }) });
    const result = await post(r.url, { timeoutMs: 500 });
    expect(result).toMatchObject({ outcome: 'failed', statusCode: 500, error: 'HTTP 500' });
    expect(result.durationMs).toBeLessThan(3_000);
  });
});

describe('postWebhook SSRF guard', () => {
  it('with allowPrivate false refuses 127.0.0.1 and localhost; nothing reaches the receiver', async () => {
    const r = await receiver();
    const localhostUrl = r.url.replace('127.0.0.1', 'localhost');
    for (const url of [r.url, localhostUrl]) {
      const result = await post(url, { allowPrivate: false });
      expect(result).toMatchObject({ outcome: 'refused', statusCode: null, responseExcerpt: null });
      expect(result.error).toMatch(/loopback/);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.requests).toHaveLength(0);
  });

  it('checks the address actually connected to: a name resolving to 127.0.0.1 is refused at connect time', async () => {
    const r = await receiver();
    const url = r.url.replace('127.0.0.1', REBINDING_HOST);
    const refused = await post(url, { allowPrivate: false });
    expect(refused).toMatchObject({ outcome: 'refused', statusCode: null });
    expect(refused.error).toMatch(/blocked addresses \(loopback address\)/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.requests).toHaveLength(0);

    // The same name with allowPrivate connects through the same lookup and is delivered.
    expect(await post(url, { allowPrivate: true })).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect((await r.waitFor(1))[0]!.headers.host).toBe(`${REBINDING_HOST}:${r.port}`);
  });

  it('requireHttps refuses http URLs before any request', async () => {
    const r = await receiver();
    const result = await post(r.url, { requireHttps: true });
    expect(result).toMatchObject({ outcome: 'refused', statusCode: null });
    expect(result.error).toMatch(/only https/);
    expect(r.requests).toHaveLength(0);
  });

  it('refuses URLs with credentials or other schemes', async () => {
    const r = await receiver();
    expect((await post(r.url.replace('http://', 'http://user:secret@'))).outcome).toBe('refused');
    expect((await post(r.url.replace('http://', 'ftp://'))).outcome).toBe('refused');
    expect(r.requests).toHaveLength(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    [['30', '60'], 30_000],
    ['Sun, 01 Jun 2025 12:02:00 GMT', 120_000],
    ['Sun, 01 Jun 2025 11:00:00 GMT', 0],
    ['999999999', 24 * 3600 * 1000],
    ['-5', null],
    ['1', 1_000],
    ['Sunday, 01-Jun-25 12:01:00 GMT', 60_000],
    ['soon', null],
    ['', null],
    [undefined, null],
  ] as const)('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value as string | string[] | undefined, now)).toBe(expected);
  });
});
