import PostalMime, { type Email } from 'postal-mime';
import type { InboundMail } from '../domain/inbound-mail.js';

// Raw RFC 5322 bytes → the normalised message the domain rules read. postal-mime's own limits
// keep hostile MIME cheap (nesting depth, header bytes, part count); on top of them the whole
// parse gets a deadline, and anything that fails is reported, never thrown past here.

export const PARSE_LIMITS = {
  maxNestingDepth: 32,
  maxHeadersSize: 256 * 1024,
  maxPartCount: 1_000,
  maxRfc822NestingDepth: 3,
  maxForwardedAddresses: 1_000,
} as const;
const PARSE_DEADLINE_MS = 5_000;
/** Plain text kept per message: replies are short; a megabyte of text is not a reply to read. */
const MAX_TEXT_CHARS = 200_000;

export interface ParsedInbound {
  mail: InboundMail;
  fromName: string | null;
  messageIdHeader: string | null;
  inReplyTo: string[];
  references: string[];
  /** Recipient addresses from To/Cc/Delivered-To (a provider route may lack an envelope). */
  recipients: string[];
  /** Message-IDs of the original message a bounce returns (its attached headers or copy). */
  originalMessageIds: string[];
}

export type ParseResult = { ok: true; parsed: ParsedInbound } | { ok: false; reason: string };

/** '<a@x> <b@y>' → ['<a@x>', '<b@y>']. */
export function messageIdsIn(value: string | undefined | null): string[] {
  return value ? (value.match(/<[^<>\s]{1,400}>/g) ?? []).slice(0, 100) : [];
}

function decodeContent(content: ArrayBuffer | Uint8Array | string): string {
  if (typeof content === 'string') return content;
  return Buffer.from(content instanceof ArrayBuffer ? new Uint8Array(content) : content).toString('utf8');
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<blockquote[\s\S]*?<\/blockquote>/gi, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`parsing took longer than ${ms} ms`), { code: 'ETIMEOUT' })), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function parseInbound(raw: Buffer | Uint8Array): Promise<ParseResult> {
  let email: Email;
  try {
    email = await withDeadline(PostalMime.parse(raw, { ...PARSE_LIMITS, forceRfc822Attachments: true, attachmentEncoding: 'arraybuffer' }), PARSE_DEADLINE_MS);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return { ok: false, reason: typeof code === 'string' ? code : 'unparsable MIME' };
  }
  if (email.headers.length === 0) return { ok: false, reason: 'no header section' };
  const from = email.from && 'address' in email.from && email.from.address ? email.from : null;
  const deliveryStatusPart = email.attachments.find((part) => /^message\/(global-)?delivery-status$/i.test(part.mimeType));
  const topContentType = email.headers.find((h) => h.key === 'content-type')?.value ?? 'text/plain';
  const text = (email.text ?? (email.html ? htmlToText(email.html) : '')).slice(0, MAX_TEXT_CHARS);
  const recipients = [...(email.to ?? []), ...(email.cc ?? [])]
    .flatMap((address) => (address.group ? address.group : [address]))
    .map((mailbox) => mailbox.address)
    .filter((address): address is string => Boolean(address));
  if (email.deliveredTo) recipients.push(email.deliveredTo);
  const originalMessageIds = email.attachments
    .filter((part) => /^(text\/rfc822-headers|message\/rfc822|message\/global-headers|message\/(global-)?delivery-status)$/i.test(part.mimeType))
    .flatMap((part) => [...decodeContent(part.content).slice(0, 64 * 1024).matchAll(/^(?:x-original-)?message-id:\s*(<[^<>\s]{1,400}>)/gim)].map((m) => m[1]!))
    .slice(0, 20);
  return {
    ok: true,
    parsed: {
      mail: {
        fromAddress: from?.address?.toLowerCase() ?? null,
        subject: email.subject ?? '',
        headers: email.headers.map((h) => ({ key: h.key, value: h.value })),
        text,
        contentType: topContentType,
        deliveryStatus: deliveryStatusPart ? decodeContent(deliveryStatusPart.content).slice(0, 64 * 1024) : null,
      },
      fromName: from?.name || null,
      messageIdHeader: messageIdsIn(email.messageId)[0] ?? null,
      inReplyTo: messageIdsIn(email.inReplyTo),
      references: messageIdsIn(email.references),
      recipients: recipients.map((address) => address.toLowerCase()),
      originalMessageIds,
    },
  };
}
