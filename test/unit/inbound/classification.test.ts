import { describe, expect, it } from 'vitest';
import { classifyInbound, parseReturnDate } from '../../../src/domain/inbound-mail.js';
import { parseInbound } from '../../../src/inbound/parse.js';
import { FIXTURE_MESSAGE_ID, fixture, fixtureNames } from '../../support/inbound-fixtures.js';

// Every fixture in test/fixtures/inbound (our own samples, shaped like what Gmail, Outlook,
// Exchange, Postfix and Exim send), parsed with the real parser and classified.

const TODAY = '2026-12-07';
const MSGID = FIXTURE_MESSAGE_ID;

type Expected = { kind: string; status?: string; permanent?: boolean; outOfOffice?: boolean; returns?: string | null };

const TABLE: Array<[string, Expected]> = [
  ['human-gmail', { kind: 'human' }],
  ['human-outlook', { kind: 'human' }],
  ['human-please-stop-by', { kind: 'human' }],
  ['ooo-exchange-en', { kind: 'auto_reply', outOfOffice: true, returns: '2026-12-19' }],
  ['ooo-gmail-vacation', { kind: 'auto_reply', outOfOffice: true, returns: '2026-12-14' }],
  ['ooo-de', { kind: 'auto_reply', outOfOffice: true, returns: '2026-12-16' }],
  ['ooo-fr', { kind: 'auto_reply', outOfOffice: true, returns: '2026-12-18' }],
  ['ooo-es', { kind: 'auto_reply', outOfOffice: true, returns: '2026-12-21' }],
  ['ooo-far-away', { kind: 'auto_reply', returns: null }],
  ['newsletter-bulk', { kind: 'auto_reply', outOfOffice: false }],
  ['dsn-postfix-5.1.1', { kind: 'bounce', status: '5.1.1', permanent: true }],
  ['dsn-postfix-delayed-4.4.1', { kind: 'bounce', status: '4.4.1', permanent: false }],
  ['dsn-exim-5.0.0', { kind: 'bounce', status: '5.0.0', permanent: true }],
  ['dsn-exchange-5.1.10', { kind: 'bounce', status: '5.1.10', permanent: true }],
  ['dsn-gmail-5.1.1', { kind: 'bounce', status: '5.1.1', permanent: true }],
  ['unsubscribe-remove-me', { kind: 'unsubscribe' }],
  ['unsubscribe-please-stop', { kind: 'unsubscribe' }],
];

describe('classification of every inbound fixture', () => {
  it('covers every file in the fixture folder', () => {
    expect(fixtureNames().sort()).toEqual(TABLE.map(([name]) => name).sort());
  });

  it.each(TABLE)('%s', async (name, expected) => {
    const result = await parseInbound(fixture(name));
    if (!result.ok) throw new Error(result.reason);
    const classification = classifyInbound(result.parsed.mail);
    expect(classification).toMatchObject({ kind: expected.kind, ...(expected.status ? { status: expected.status, permanent: expected.permanent } : {}) });
    if (expected.outOfOffice !== undefined) expect(classification).toMatchObject({ outOfOffice: expected.outOfOffice });
    if (expected.returns !== undefined) expect(parseReturnDate(result.parsed.mail.text, TODAY)?.date ?? null).toBe(expected.returns);
    if (classification.kind === 'bounce') {
      expect(classification.recipient).toBe('alice.martin@northwind.example');
      expect(result.parsed.originalMessageIds).toContain(MSGID);
    }
  });
});
