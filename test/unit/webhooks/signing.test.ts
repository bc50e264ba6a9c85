import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook } from '../../../src/webhooks/signing.js';

const body = JSON.stringify({ type: 'followup.sent', timestamp: '2025-01-01T00:00:00.000Z', data: { id: 'm_1' } });

function headersFor(secrets: string[], at = new Date()) {
  return signWebhook({ id: 'msg_2a1b', timestamp: at, body, secrets });
}

describe('generateWebhookSecret', () => {
  it('makes whsec_ secrets of 32 random bytes that the library accepts', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(() => new Webhook(secret)).not.toThrow();
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('signWebhook', () => {
  it('sets webhook-id and webhook-timestamp (unix seconds) as given', () => {
    const at = new Date('2025-03-04T05:06:07.890Z');
    const headers = signWebhook({ id: 'msg_fixed', timestamp: at, body, secrets: [generateWebhookSecret()] });
    expect(headers['webhook-id']).toBe('msg_fixed');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('verifies with the standardwebhooks library for the given secret', () => {
    const secret = generateWebhookSecret();
    const headers = headersFor([secret]);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('is the same signature the library computes, and stable for the same input', () => {
    const secret = generateWebhookSecret();
    const at = new Date();
    expect(headersFor([secret], at)['webhook-signature']).toBe(new Webhook(secret).sign('msg_2a1b', at, body));
    expect(headersFor([secret], at)).toEqual(headersFor([secret], at));
  });

  it('with two secrets (rotation) carries two signatures, and either secret verifies', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = headersFor([newSecret, oldSecret]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
  });

  it('sends one signature for a repeated secret', () => {
    const secret = generateWebhookSecret();
    expect(headersFor([secret, secret])['webhook-signature'].split(' ')).toHaveLength(1);
  });

  it('fails verification for a tampered body, id or timestamp', () => {
    const secret = generateWebhookSecret();
    const headers = headersFor([secret]);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('m_1', 'm_2'), headers)).toThrow(/No matching signature/);
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_other' })).toThrow(/No matching signature/);
    const earlier = String(Number(headers['webhook-timestamp']) - 1);
    expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': earlier })).toThrow(/No matching signature/);
  });

  it('refuses to sign without a secret', () => {
    expect(() => headersFor([])).toThrow(/at least one secret/);
  });
});
