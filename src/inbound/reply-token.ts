import { createHmac, timingSafeEqual } from 'node:crypto';

// Every message we send carries its own reply and bounce addresses, reply+<token>@ and
// bounce+<token>@ INBOUND_DOMAIN, so whatever comes back names the message it answers.
// The token is the message's id followed by a MAC of it: unguessable (nobody can make up a
// token for a message they did not receive) and self-checking (no lookup table). Keys rotate
// like JWT_SECRET: the first signs, all verify, so mail sent before a rotation still matches.

const TOKEN_PATTERN = /^([0-9a-f]{32})([0-9a-f]{16})$/;
const MAC_BYTES = 8;
const KEY_LABEL = 'afterview inbound reply token v1';

export interface ReplyTokenKeys {
  /** Signs new tokens. */
  current: Buffer;
  /** Every key a token may have been signed with (the current one first). */
  all: Buffer[];
}

/** Keys from secrets (INBOUND_TOKEN_SECRET, or JWT_SECRET's): derived, so the secret itself is never the MAC key of something else. */
export function replyTokenKeys(secrets: readonly string[]): ReplyTokenKeys {
  const usable = secrets.map((secret) => secret.trim()).filter(Boolean);
  if (usable.length === 0) throw new Error('reply tokens need at least one secret');
  const all = usable.map((secret) => createHmac('sha256', secret).update(KEY_LABEL).digest());
  return { current: all[0]!, all };
}

function macOf(key: Buffer, idHex: string): Buffer {
  return createHmac('sha256', key).update(idHex).digest().subarray(0, MAC_BYTES);
}

/** The token naming a message (its uuid id): 48 lower-case hex characters. */
export function replyTokenFor(keys: ReplyTokenKeys, messageId: string): string {
  const idHex = messageId.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(idHex)) throw new Error('a reply token names a message by its uuid');
  return idHex + macOf(keys.current, idHex).toString('hex');
}

/** The message id a token names, or null for anything forged, mangled or signed with a key no longer kept. */
export function messageIdOfToken(keys: ReplyTokenKeys, token: string): string | null {
  const match = TOKEN_PATTERN.exec(token.toLowerCase());
  if (!match) return null;
  const [, idHex, macHex] = match as unknown as [string, string, string];
  const given = Buffer.from(macHex, 'hex');
  if (!keys.all.some((key) => timingSafeEqual(macOf(key, idHex), given))) return null;
  return `${idHex.slice(0, 8)}-${idHex.slice(8, 12)}-${idHex.slice(12, 16)}-${idHex.slice(16, 20)}-${idHex.slice(20)}`;
}

export type InboundAddressKind = 'reply' | 'bounce';

/** reply+<token>@domain / bounce+<token>@domain → its parts; null for any other address. */
export function parseInboundAddress(address: string, domain: string): { kind: InboundAddressKind; token: string } | null {
  const trimmed = address.trim().replace(/^<|>$/g, '').toLowerCase();
  const at = trimmed.lastIndexOf('@');
  if (at < 0 || trimmed.slice(at + 1) !== domain.toLowerCase()) return null;
  const match = /^(reply|bounce)\+([0-9a-f]{48})$/.exec(trimmed.slice(0, at));
  return match ? { kind: match[1] as InboundAddressKind, token: match[2]! } : null;
}

/** Whether an address is at the inbound domain at all (what the SMTP listener accepts). */
export function isInboundDomainAddress(address: string, domain: string): boolean {
  const trimmed = address.trim().toLowerCase();
  return trimmed.endsWith(`@${domain.toLowerCase()}`) && trimmed.indexOf('@') === trimmed.lastIndexOf('@');
}

/** How outgoing mail is addressed so that what comes back finds its way. */
export interface InboundAddressing {
  domain: string;
  keys: ReplyTokenKeys;
}

export function replyAddressFor(addressing: InboundAddressing, messageId: string): string {
  return `reply+${replyTokenFor(addressing.keys, messageId)}@${addressing.domain}`;
}

export function bounceAddressFor(addressing: InboundAddressing, messageId: string): string {
  return `bounce+${replyTokenFor(addressing.keys, messageId)}@${addressing.domain}`;
}
