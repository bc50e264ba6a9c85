import { createHash, createHmac, createVerify, timingSafeEqual, X509Certificate } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';

// Provider adapters: each turns what a mail provider posts (Postmark, Mailgun, SendGrid Inbound
// Parse, SES through SNS) into the raw RFC 5322 message we store, with the provider's id for
// idempotency, after checking the request is the provider's. Bounce and complaint events become
// a delivery status notification or a complaint naming our Message-ID. No I/O here.

export class ProviderAuthError extends Error {}
export class ProviderInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface NormalisedInbound {
  raw: Buffer;
  providerMessageId: string | null;
  envelopeFrom: string | null;
  envelopeTo: string[];
}

function sameSecret(given: string, expected: string): boolean {
  // Hashes first, so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

/** HTTP basic auth; unset credentials refuse everything. */
export function checkBasicAuth(header: string | undefined, user: string | undefined, password: string | undefined): void {
  if (!user || !password) throw new ProviderAuthError('inbound webhook credentials are not configured');
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) throw new ProviderAuthError('basic authentication required');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const ok = colon >= 0 && sameSecret(decoded.slice(0, colon), user) && sameSecret(decoded.slice(colon + 1), password);
  if (!ok) throw new ProviderAuthError('wrong credentials');
}

/** Mailgun: hex HMAC-SHA256 of timestamp + token with the signing key, and a fresh timestamp. */
export function checkMailgunSignature(fields: { timestamp?: string; token?: string; signature?: string }, key: string | undefined, now: Date): void {
  if (!key) throw new ProviderAuthError('MAILGUN_SIGNING_KEY is not configured');
  const { timestamp, token, signature } = fields;
  if (!timestamp || !token || !signature) throw new ProviderAuthError('signature, timestamp and token are required');
  const expected = createHmac('sha256', key).update(timestamp + token).digest('hex');
  if (!/^[0-9a-f]{64}$/i.test(signature) || !timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))) throw new ProviderAuthError('wrong signature');
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > 15 * 60) throw new ProviderAuthError('the signature is too old');
}

const HEADERS_WE_SET = new Set(['content-type', 'content-transfer-encoding', 'mime-version', 'from', 'to', 'cc', 'subject', 'message-id', 'in-reply-to', 'references', 'date']);

/** Builds a message from a provider's parsed fields (when it did not send the raw one). */
async function composeRaw(parts: {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId?: string | null;
  inReplyTo?: string | null;
  references?: string | null;
  date?: string | null;
  headers: Array<[string, string]>;
}): Promise<Buffer> {
  const headers = parts.headers
    .filter(([key]) => !HEADERS_WE_SET.has(key.toLowerCase()) && /^[\x21-\x39\x3b-\x7e]{1,76}$/.test(key))
    .map(([key, value]) => ({ key, value: String(value).replace(/[\r\n]+/g, ' ') }));
  const composer = new MailComposer({
    from: parts.from,
    to: parts.to,
    subject: parts.subject,
    text: parts.text,
    ...(parts.messageId ? { messageId: parts.messageId } : {}),
    ...(parts.inReplyTo ? { inReplyTo: parts.inReplyTo } : {}),
    ...(parts.references ? { references: parts.references } : {}),
    ...(parts.date && !Number.isNaN(Date.parse(parts.date)) ? { date: new Date(parts.date) } : {}),
    headers,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

function headerIn(headers: Array<[string, string]>, name: string): string | null {
  return headers.find(([key]) => key.toLowerCase() === name)?.[1] ?? null;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Postmark inbound JSON. RawEmail when the server includes it; the parsed fields otherwise. */
export async function fromPostmark(body: unknown): Promise<NormalisedInbound> {
  if (!body || typeof body !== 'object') throw new ProviderInputError('body', 'must be the Postmark inbound JSON');
  const b = body as Record<string, unknown>;
  const messageId = str(b.MessageID);
  if (!messageId) throw new ProviderInputError('MessageID', 'is required');
  const toFull = Array.isArray(b.ToFull) ? (b.ToFull as Array<Record<string, unknown>>).map((to) => str(to.Email)).filter(Boolean) : [];
  const envelopeTo = [str(b.OriginalRecipient), ...toFull].filter(Boolean);
  if (typeof b.RawEmail === 'string' && b.RawEmail) {
    return { raw: Buffer.from(b.RawEmail, 'utf8'), providerMessageId: messageId, envelopeFrom: null, envelopeTo };
  }
  const headers = Array.isArray(b.Headers) ? (b.Headers as Array<Record<string, unknown>>).map((h): [string, string] => [str(h.Name), str(h.Value)]) : [];
  const fromFull = (b.FromFull ?? {}) as Record<string, unknown>;
  const raw = await composeRaw({
    from: str(fromFull.Name) ? `"${str(fromFull.Name).replaceAll('"', "'")}" <${str(fromFull.Email) || str(b.From)}>` : str(b.From),
    to: str(b.To),
    subject: str(b.Subject),
    text: str(b.TextBody),
    messageId: headerIn(headers, 'message-id'),
    inReplyTo: headerIn(headers, 'in-reply-to'),
    references: headerIn(headers, 'references'),
    date: str(b.Date),
    headers,
  });
  return { raw, providerMessageId: messageId, envelopeFrom: null, envelopeTo };
}

/** Mailgun route fields: body-mime when the route's URL ends in "mime", the parsed fields otherwise. */
export async function fromMailgun(fields: Record<string, string>): Promise<NormalisedInbound> {
  const headers: Array<[string, string]> = (() => {
    try {
      const parsed = JSON.parse(fields['message-headers'] ?? '[]') as unknown;
      return Array.isArray(parsed) ? parsed.filter((h): h is [string, string] => Array.isArray(h) && h.length === 2).map(([k, v]) => [String(k), String(v)]) : [];
    } catch {
      return [];
    }
  })();
  const messageIdHeader = headerIn(headers, 'message-id') ?? fields['Message-Id'] ?? null;
  const envelopeTo = (fields.recipient ?? '').split(',').map((address) => address.trim()).filter(Boolean);
  const providerMessageId = messageIdHeader ?? fields.token ?? null;
  if (fields['body-mime']) return { raw: Buffer.from(fields['body-mime'], 'utf8'), providerMessageId, envelopeFrom: fields.sender ?? null, envelopeTo };
  if (!fields.from) throw new ProviderInputError('from', 'is required');
  const raw = await composeRaw({
    from: fields.from,
    to: fields.To ?? fields.recipient ?? '',
    subject: fields.subject ?? '',
    text: fields['body-plain'] ?? '',
    messageId: messageIdHeader,
    inReplyTo: headerIn(headers, 'in-reply-to'),
    references: headerIn(headers, 'references'),
    date: headerIn(headers, 'date'),
    headers,
  });
  return { raw, providerMessageId, envelopeFrom: fields.sender ?? null, envelopeTo };
}

/** SendGrid Inbound Parse: `email` (the raw message, with "POST the raw, full MIME message") or the parsed fields. */
export async function fromSendgrid(fields: Record<string, string>): Promise<NormalisedInbound> {
  let envelope: { to?: unknown; from?: unknown } = {};
  try {
    envelope = JSON.parse(fields.envelope ?? '{}') as typeof envelope;
  } catch {
    throw new ProviderInputError('envelope', 'must be JSON');
  }
  const envelopeTo = Array.isArray(envelope.to) ? envelope.to.map(String) : [];
  const envelopeFrom = typeof envelope.from === 'string' ? envelope.from : null;
  const headerText = fields.headers ?? '';
  const messageIdOf = (text: string) => /^message-id:\s*(<[^>\r\n]+>)/im.exec(text)?.[1] ?? null;
  if (fields.email) {
    return { raw: Buffer.from(fields.email, 'utf8'), providerMessageId: messageIdOf(fields.email.slice(0, 64 * 1024)), envelopeFrom, envelopeTo };
  }
  if (!fields.from) throw new ProviderInputError('from', 'is required');
  const headers: Array<[string, string]> = headerText
    .replace(/\r?\n[ \t]+/g, ' ')
    .split(/\r?\n/)
    .map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()] as [string, string])
    .filter(([key]) => key.length > 0);
  const raw = await composeRaw({
    from: fields.from,
    to: fields.to ?? '',
    subject: fields.subject ?? '',
    text: fields.text ?? '',
    messageId: headerIn(headers, 'message-id'),
    inReplyTo: headerIn(headers, 'in-reply-to'),
    references: headerIn(headers, 'references'),
    date: headerIn(headers, 'date'),
    headers,
  });
  return { raw, providerMessageId: headerIn(headers, 'message-id'), envelopeFrom, envelopeTo };
}

/** message/rfc822 posted as it is; its Message-ID makes a repeated post the same message. */
export function fromRaw(body: Buffer): NormalisedInbound {
  if (body.length === 0) throw new ProviderInputError('body', 'must be an RFC 5322 message');
  const head = body.subarray(0, 64 * 1024).toString('latin1');
  const messageId = /^message-id:\s*(<[^>\r\n]+>)/im.exec(head.split(/\r?\n\r?\n/)[0] ?? '')?.[1] ?? null;
  return { raw: body, providerMessageId: messageId, envelopeFrom: null, envelopeTo: [] };
}

// ---------------------------------------------------------------------------------------------
// SNS (SES receipt notifications and SES bounce/complaint events)

export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL?: string;
  SubscribeURL?: string;
  Token?: string;
}

/** The string SNS signs: the named fields, each "Name\nvalue\n", in this order (Subject only when present). */
export function snsStringToSign(message: SnsEnvelope): string {
  const keys =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((key) => (message as unknown as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${key}\n${(message as unknown as Record<string, unknown>)[key] as string}\n`)
    .join('');
}

/**
 * Verifies an SNS message against pinned certificates (SNS_SIGNING_CERT_FILE): the service fetches
 * no certificate at run time, so a message signed by anything else is refused. Version 1 is
 * SHA1withRSA, version 2 SHA256withRSA.
 */
export function verifySnsMessage(body: unknown, certificates: readonly X509Certificate[], now: Date): SnsEnvelope {
  if (certificates.length === 0) throw new ProviderAuthError('no SNS signing certificate is configured (SNS_SIGNING_CERT_FILE)');
  if (!body || typeof body !== 'object') throw new ProviderAuthError('not an SNS message');
  const message = body as SnsEnvelope;
  for (const key of ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature'] as const) {
    if (typeof message[key] !== 'string') throw new ProviderAuthError(`not an SNS message (no ${key})`);
  }
  const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : message.SignatureVersion === '2' ? 'RSA-SHA256' : null;
  if (!algorithm) throw new ProviderAuthError('unknown SignatureVersion');
  const signed = snsStringToSign(message);
  const signature = Buffer.from(message.Signature, 'base64');
  const valid = certificates.some((certificate) => {
    if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) return false;
    return createVerify(algorithm).update(signed, 'utf8').verify(certificate.publicKey, signature);
  });
  if (!valid) throw new ProviderAuthError('wrong signature');
  return message;
}

/** PEM text with one or more certificates → the certificates. */
export function pinnedCertificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

/** An SES receipt notification (action SNS) → the raw message it carries. */
export function fromSesNotification(sns: SnsEnvelope): NormalisedInbound {
  let notification: Record<string, unknown>;
  try {
    notification = JSON.parse(sns.Message) as Record<string, unknown>;
  } catch {
    throw new ProviderInputError('Message', 'must be an SES notification (JSON)');
  }
  if (notification.notificationType !== 'Received') throw new ProviderInputError('Message.notificationType', 'must be Received for /v1/inbound/ses');
  const mail = (notification.mail ?? {}) as Record<string, unknown>;
  const receipt = (notification.receipt ?? {}) as Record<string, unknown>;
  const action = (receipt.action ?? {}) as Record<string, unknown>;
  if (typeof notification.content !== 'string') throw new ProviderInputError('Message.content', 'is missing: the receipt rule must use the SNS action');
  const raw = action.encoding === 'BASE64' ? Buffer.from(notification.content, 'base64') : Buffer.from(notification.content, 'utf8');
  const recipients = Array.isArray(receipt.recipients) ? receipt.recipients.map(String) : Array.isArray(mail.destination) ? mail.destination.map(String) : [];
  return { raw, providerMessageId: str(mail.messageId) || sns.MessageId, envelopeFrom: str(mail.source) || null, envelopeTo: recipients };
}

// ---------------------------------------------------------------------------------------------
// Bounce and complaint events

export interface ProviderEvent {
  kind: 'bounce' | 'complaint';
  /** Our Message-ID header, when the provider reports it. */
  messageIdHeader: string | null;
  recipient: string;
  /** 5.x.x / 4.x.x for bounces. */
  status: string | null;
  diagnostic: string | null;
  providerEventId: string;
}

function bracketed(id: string | null | undefined): string | null {
  if (!id) return null;
  const trimmed = id.trim();
  return trimmed.startsWith('<') ? trimmed : `<${trimmed}>`;
}

function statusOf(value: unknown, permanentDefault: boolean): string {
  const text = String(value ?? '');
  return /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(text)?.[0] ?? (permanentDefault ? '5.0.0' : '4.0.0');
}

/** SES bounce/complaint notification (inside an SNS message). */
export function sesEvents(sns: SnsEnvelope): ProviderEvent[] {
  const event = JSON.parse(sns.Message) as Record<string, any>;
  const type = event.notificationType ?? event.eventType;
  const headerId = bracketed(event.mail?.commonHeaders?.messageId ?? (event.mail?.headers as Array<{ name: string; value: string }> | undefined)?.find((h) => h.name.toLowerCase() === 'message-id')?.value);
  if (type === 'Bounce') {
    const permanent = event.bounce?.bounceType === 'Permanent';
    return (event.bounce?.bouncedRecipients ?? []).map((recipient: Record<string, unknown>, index: number) => ({
      kind: 'bounce' as const,
      messageIdHeader: headerId,
      recipient: str(recipient.emailAddress),
      status: statusOf(recipient.status, permanent),
      diagnostic: str(recipient.diagnosticCode) || null,
      providerEventId: `${str(event.bounce?.feedbackId) || sns.MessageId}:${index}`,
    }));
  }
  if (type === 'Complaint') {
    return (event.complaint?.complainedRecipients ?? []).map((recipient: Record<string, unknown>, index: number) => ({
      kind: 'complaint' as const,
      messageIdHeader: headerId,
      recipient: str(recipient.emailAddress),
      status: null,
      diagnostic: str(event.complaint?.complaintFeedbackType) || null,
      providerEventId: `${str(event.complaint?.feedbackId) || sns.MessageId}:${index}`,
    }));
  }
  return [];
}

/** SendGrid Event Webhook: an array; bounce, dropped (bounced address) and spamreport count. */
export function sendgridEvents(body: unknown): ProviderEvent[] {
  if (!Array.isArray(body)) throw new ProviderInputError('body', 'must be an array of SendGrid events');
  return body.flatMap((event: Record<string, unknown>): ProviderEvent[] => {
    const type = str(event.event);
    const base = { messageIdHeader: bracketed(str(event['smtp-id']) || null), recipient: str(event.email), providerEventId: str(event.sg_event_id) || `${str(event.sg_message_id)}:${type}` };
    if (type === 'bounce' || (type === 'dropped' && /bounce/i.test(str(event.reason)))) {
      const permanent = str(event.type) !== 'blocked';
      return [{ ...base, kind: 'bounce', status: statusOf(event.status, permanent), diagnostic: str(event.reason) || null }];
    }
    if (type === 'spamreport') return [{ ...base, kind: 'complaint', status: null, diagnostic: null }];
    return [];
  });
}

/** Postmark bounce and spam-complaint webhooks. */
export function postmarkEvents(body: unknown): ProviderEvent[] {
  if (!body || typeof body !== 'object') throw new ProviderInputError('body', 'must be a Postmark webhook JSON');
  const b = body as Record<string, unknown>;
  const base = { messageIdHeader: null, recipient: str(b.Email), providerEventId: `${str(b.RecordType)}:${String(b.ID ?? b.MessageID ?? '')}` };
  if (b.RecordType === 'Bounce') {
    const permanent = ['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'Blocked'].includes(str(b.Type));
    return [{ ...base, kind: 'bounce', status: statusOf(b.Details, permanent), diagnostic: str(b.Description) || null }];
  }
  if (b.RecordType === 'SpamComplaint') return [{ ...base, kind: 'complaint', status: null, diagnostic: null }];
  return [];
}

/** Mailgun event webhook: {signature, event-data}; failed (permanent or temporary) and complained count. */
export function mailgunEvents(body: unknown): { events: ProviderEvent[]; signature: { timestamp?: string; token?: string; signature?: string } } {
  if (!body || typeof body !== 'object') throw new ProviderInputError('body', 'must be a Mailgun webhook JSON');
  const b = body as Record<string, any>;
  const signature = { timestamp: String(b.signature?.timestamp ?? ''), token: str(b.signature?.token), signature: str(b.signature?.signature) };
  const data = (b['event-data'] ?? {}) as Record<string, any>;
  const base = { messageIdHeader: bracketed(data.message?.headers?.['message-id']), recipient: str(data.recipient), providerEventId: str(data.id) || signature.token };
  if (data.event === 'failed') {
    const permanent = data.severity === 'permanent';
    const status = data['delivery-status'] ?? {};
    return { signature, events: [{ ...base, kind: 'bounce', status: statusOf(status['enhanced-code'] ?? status.message ?? status.description, permanent), diagnostic: str(status.message) || str(status.description) || null }] };
  }
  if (data.event === 'complained') return { signature, events: [{ ...base, kind: 'complaint', status: null, diagnostic: null }] };
  return { signature, events: [] };
}

/** A provider's bounce as the delivery status notification the pipeline reads (RFC 3464). */
export function dsnFor(event: ProviderEvent, source: string, inboundDomain: string): Buffer {
  const boundary = `afterview-dsn-${createHash('sha256').update(event.providerEventId).digest('hex').slice(0, 16)}`;
  const lines = [
    `From: Mail Delivery System <mailer-daemon@${inboundDomain}>`,
    `To: bounces@${inboundDomain}`,
    `Subject: Delivery Status Notification (reported by ${source})`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `${source} reported that a message to ${event.recipient} could not be delivered (${event.status}).`,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${source}`,
    '',
    `Final-Recipient: rfc822; ${event.recipient}`,
    `Action: ${event.status?.startsWith('5') ? 'failed' : 'delayed'}`,
    `Status: ${event.status}`,
    ...(event.diagnostic ? [`Diagnostic-Code: smtp; ${event.diagnostic.replace(/[\r\n]+/g, ' ').slice(0, 500)}`] : []),
    '',
    ...(event.messageIdHeader ? [`--${boundary}`, 'Content-Type: text/rfc822-headers', '', `Message-ID: ${event.messageIdHeader}`, ''] : []),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
