import fs from 'node:fs';

// The inbound samples in test/fixtures/inbound (our own, shaped like what Gmail, Outlook,
// Exchange, Postfix and Exim send), with the addresses a test needs filled in.

export const FIXTURE_MESSAGE_ID = '<0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6@acme.example>';

export function fixtureNames(): string[] {
  return fs.readdirSync(new URL('../fixtures/inbound/', import.meta.url)).map((file) => file.replace(/\.eml$/, ''));
}

export function fixture(name: string, values: { to?: string; rcpt?: string; msgid?: string } = {}): Buffer {
  const text = fs
    .readFileSync(new URL(`../fixtures/inbound/${name}.eml`, import.meta.url), 'utf8')
    .replaceAll('{{TO}}', values.to ?? 'reply+0192f3a45b6c7d8e9fa0b1c2d3e4f5a60011223344556677@in.afterview.localhost')
    .replaceAll('{{RCPT}}', values.rcpt ?? 'alice.martin@northwind.example')
    .replaceAll('{{MSGID}}', values.msgid ?? FIXTURE_MESSAGE_ID);
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'));
}
