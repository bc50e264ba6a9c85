import { describe, expect, it } from 'vitest';
import { bounceAddressFor, messageIdOfToken, parseInboundAddress, replyAddressFor, replyTokenFor, replyTokenKeys } from '../../../src/inbound/reply-token.js';
import { toNodemailerOptions } from '../../../src/mail/mailer.js';
import { outgoingMailOf } from '../../../src/services/message-dispatch.js';
import type { MessageRow } from '../../../src/db/schema.js';

const ID = '0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6';
const keys = replyTokenKeys(['first-secret-long-enough', 'older-secret-long-enough']);

describe('reply tokens', () => {
  it('name one message and read back', () => {
    const token = replyTokenFor(keys, ID);
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(messageIdOfToken(keys, token)).toBe(ID);
    expect(messageIdOfToken(keys, token.toUpperCase())).toBe(ID);
  });

  it('refuse a forged or altered token', () => {
    const token = replyTokenFor(keys, ID);
    const otherId = token.slice(0, 31) + (token[31] === '0' ? '1' : '0') + token.slice(32);
    expect(messageIdOfToken(keys, otherId)).toBeNull();
    expect(messageIdOfToken(keys, token.slice(0, 32) + '0'.repeat(16))).toBeNull();
    expect(messageIdOfToken(keys, 'nonsense')).toBeNull();
    expect(messageIdOfToken(replyTokenKeys(['someone-elses-secret-xx']), token)).toBeNull();
  });

  it('survive a key rotation: a token signed with the old key still verifies while that key is kept', () => {
    const old = replyTokenKeys(['older-secret-long-enough']);
    const token = replyTokenFor(old, ID);
    expect(messageIdOfToken(keys, token)).toBe(ID);
    expect(messageIdOfToken(replyTokenKeys(['first-secret-long-enough']), token)).toBeNull();
  });

  it('are read from reply+ and bounce+ addresses at the inbound domain only', () => {
    const addressing = { domain: 'in.afterview.localhost', keys };
    const reply = replyAddressFor(addressing, ID);
    expect(reply.split('@')[0]!.length).toBeLessThanOrEqual(64);
    expect(parseInboundAddress(reply, 'in.afterview.localhost')).toEqual({ kind: 'reply', token: replyTokenFor(keys, ID) });
    expect(parseInboundAddress(`<${bounceAddressFor(addressing, ID).toUpperCase()}>`, 'in.afterview.localhost')?.kind).toBe('bounce');
    expect(parseInboundAddress(reply.replace('in.afterview.localhost', 'evil.example'), 'in.afterview.localhost')).toBeNull();
    expect(parseInboundAddress('someone@in.afterview.localhost', 'in.afterview.localhost')).toBeNull();
  });
});

describe('outgoing mail with inbound addressing', () => {
  const row = {
    id: ID,
    message_id_header: `<${ID}@acme.example>`,
    from_name: 'Dana Reyes via Acme Jobs',
    from_address: 'followups@acme.example',
    reply_to_name: 'Dana Reyes',
    reply_to_address: 'dana@candidate.example',
    to_name: 'Alice Martin',
    to_address: 'alice@northwind.example',
    subject: 'Thank you',
    body: 'Hello',
    in_reply_to: null,
    references_header: [],
  } as unknown as MessageRow;

  it('carries the tracking Reply-To with the candidate name, the VERP envelope sender and X-Auto-Response-Suppress', () => {
    const options = toNodemailerOptions(outgoingMailOf(row, { domain: 'in.afterview.localhost', keys }));
    const token = replyTokenFor(keys, ID);
    expect(options.replyTo).toEqual({ name: 'Dana Reyes', address: `reply+${token}@in.afterview.localhost` });
    expect(options.envelope).toEqual({ from: `bounce+${token}@in.afterview.localhost`, to: ['alice@northwind.example'] });
    expect(options.headers).toMatchObject({ 'X-Auto-Response-Suppress': 'DR, RN, NRN' });
    expect(options.from).toEqual({ name: 'Dana Reyes via Acme Jobs', address: 'followups@acme.example' });
  });

  it('without it, replies go to the candidate and bounces to the sender', () => {
    const options = toNodemailerOptions(outgoingMailOf(row));
    expect(options.replyTo).toEqual({ name: 'Dana Reyes', address: 'dana@candidate.example' });
    expect(options.envelope).toEqual({ from: 'followups@acme.example', to: ['alice@northwind.example'] });
  });
});
