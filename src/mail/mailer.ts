import { constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Logger } from 'pino';
import { withoutInvisibleFormatting } from '../domain/display-name.js';
import { type DkimKey, dkimSigned } from './dkim.js';
import { outboxFileName, writeFileAtomically } from './eml-outbox.js';
import { classifyOutboxError, classifySmtpError, shortDetail, type FailureClass, type SmtpFailure } from './smtp-errors.js';
import { createSmtpPool } from './smtp-pool.js';

export { classifySmtpError } from './smtp-errors.js';
export type { FailureClass, SmtpFailure } from './smtp-errors.js';

// The only way mail leaves the service. Two kinds: a pooled SMTP relay (SMTP_URL set) and, for the
// embedded default, .eml files in DATA_DIR/outbox. Both build the message with nodemailer so the
// bytes are the same either way. Delivery problems never throw: they come back as a classified
// 'failed' outcome the worker turns into retry / dead / alert. Nothing personal is logged here;
// nodemailer's own logger stays off because it logs recipients.

export interface MailAddress {
  name: string;
  address: string;
}

export interface OutgoingMail {
  /** Full Message-ID header value, angle brackets included, e.g. '<0192…@mail.acme.example>'. Fixed when the message row is created so a re-send after a crash is recognisable downstream. */
  messageId: string;
  from: MailAddress;
  /** The candidate. */
  replyTo: MailAddress;
  /** The interviewer. */
  to: MailAddress;
  subject: string;
  /** Plain text body. */
  text: string;
  /** A Message-ID (threading a check-in to the thank-you). */
  inReplyTo?: string | null;
  /** Message-IDs. */
  references?: string[];
  /** Extra headers such as 'X-Afterview-Message': the message's internal id (never personal data). */
  headers?: Record<string, string>;
  /** The envelope sender (MAIL FROM), where bounces go; default the From address. */
  envelopeFrom?: string;
  /** Sign with this key (the sending domain's), as the last step before the bytes leave. */
  dkim?: DkimKey;
}

export type SendOutcome =
  | { status: 'sent'; response: string }
  | { status: 'failed'; failureClass: FailureClass; code: string; detail: string; hardBounce: boolean };

export interface SendOptions {
  /**
   * Awaited at the last moment the message can still be held back: the server (or the outbox)
   * has everything but the message's end, after which it may count as delivered at any time.
   * Not called when the send fails before that point.
   */
  handover?: () => Promise<void>;
}

export interface Mailer {
  readonly kind: 'smtp' | 'eml';
  /** Never throws for delivery problems; returns 'failed'. */
  send(mail: OutgoingMail, options?: SendOptions): Promise<SendOutcome>;
  /** Connects and authenticates (smtp) or checks the outbox is writable (eml); throws MailerVerifyError. */
  verify?(): Promise<void>;
  /** Stops taking sends, lets the ones already taken finish (up to closeGraceMs), then closes the pool. */
  close(): Promise<void>;
}

export interface MailerOptions {
  smtpUrl?: string | undefined;
  outboxDir: string;
  log: Logger;
  pool?: { maxConnections?: number; maxMessages?: number };
  /** Hard limit on one send(), queue wait in the pool included; also catches a server that trickles its replies. Default 60 s. */
  sendTimeoutMs?: number;
  /** How long close() waits for sends under way before cutting their connections. Default 10 s. */
  closeGraceMs?: number;
}

/** Thrown by verify(): carries the same classification as a failed send, without personal data in the message. */
export class MailerVerifyError extends Error {
  readonly failureClass: FailureClass;
  readonly code: string;
  readonly detail: string;
  constructor(failure: SmtpFailure) {
    super(`mailer verification failed (${failure.failureClass}, ${failure.code})`);
    this.name = 'MailerVerifyError';
    this.failureClass = failure.failureClass;
    this.code = failure.code;
    this.detail = failure.detail;
  }
}

const DEFAULT_MAX_CONNECTIONS = 5;
const DEFAULT_MAX_MESSAGES = 100;
// Each wait is bounded on its own (no single SMTP step can stall longer than 30 s) and the whole
// send by sendTimeoutMs, so a worker's lease is never outlived by a hung delivery.
const CONNECTION_TIMEOUT_MS = 20_000;
const GREETING_TIMEOUT_MS = 20_000;
const SOCKET_TIMEOUT_MS = 30_000;
const DNS_TIMEOUT_MS = 20_000;
const DEFAULT_SEND_TIMEOUT_MS = 60_000;
const DEFAULT_CLOSE_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Header safety. Inputs are validated upstream; this is the last line: nothing a caller passes can
// start a new header line, add a recipient, or replace a header the mailer sets itself.

// C0 controls (CR, LF, TAB, NUL…), DEL, C1 controls (NEL) and the Unicode line/paragraph
// separators, with the whitespace around them: all of them can fold or split a header line.
const CONTROL_RUN = /\s*[\u0000-\u001f\u007f-\u009f\u2028\u2029]+\s*/g;

// One mailbox, no display name, no list, no comments, no quoting: anything else is refused
// rather than interpreted, so a value like 'a@x, b@y' can never become two recipients.
const MAILBOX = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f-\u009f]{1,64}@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f-\u009f]{1,253}$/;
const MAILBOX_MAX_LENGTH = 254;

// RFC 5322 msg-id in its plain dot-atom form: printable ASCII without '<', '>', '@' on each side.
const MESSAGE_ID = /^<[\x21-\x3b\x3d\x3f\x41-\x7e]{1,200}@[\x21-\x3b\x3d\x3f\x41-\x7e]{1,200}>$/;

// RFC 5322 field-name: printable ASCII except ':'.
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;

// Headers the mailer owns or that change who receives the message or how it is parsed.
const RESERVED_HEADERS = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'subject', 'message-id', 'in-reply-to', 'references', 'date',
  'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition', 'return-path', 'received',
  'dkim-signature', 'disposition-notification-to', 'return-receipt-to',
]);

/** Removes everything that could end a header line; what is left is one line of text. */
export function headerSafe(value: string): string {
  return value.replace(CONTROL_RUN, ' ').trim();
}

class InvalidMailError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field} ${detail}`);
  }
}

function invalid(field: string, detail: string): never {
  throw new InvalidMailError(field, detail);
}

function checkedMailbox(field: string, value: MailAddress): { name: string; address: string } | string {
  const address = value.address.trim();
  if (address.length > MAILBOX_MAX_LENGTH || !MAILBOX.test(address)) invalid(field, 'is not a single valid email address');
  // Names are cleaned of invisible direction and zero-width characters on input; rows stored
  // before that are cleaned here too.
  const name = headerSafe(withoutInvisibleFormatting(value.name));
  // An empty name would print as '"" <x@y>'; the bare address reads better.
  return name ? { name, address } : address;
}

function checkedMessageId(field: string, value: string): string {
  const trimmed = value.trim();
  const bracketed = trimmed.startsWith('<') ? trimmed : `<${trimmed}>`;
  if (!MESSAGE_ID.test(bracketed)) invalid(field, 'is not a valid Message-ID');
  return bracketed;
}

function checkedHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name)) invalid('headers', 'has a header with an invalid name');
    if (RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('resent-')) invalid('headers', `has ${name}, which would replace a header the mailer sets`);
    result[name] = headerSafe(String(value));
  }
  return result;
}

/**
 * Turns an OutgoingMail into nodemailer options. Text that could carry a line break is flattened;
 * structure that is wrong (an address list where one mailbox belongs, a malformed Message-ID, a
 * header the mailer owns) is refused: that is a bug upstream, and sending anyway could misroute.
 */
export function toNodemailerOptions(mail: OutgoingMail): SendMailOptions {
  const from = checkedMailbox('from', mail.from);
  const to = checkedMailbox('to', mail.to);
  const replyTo = checkedMailbox('replyTo', mail.replyTo);
  const options: SendMailOptions = {
    messageId: checkedMessageId('messageId', mail.messageId),
    from,
    to,
    replyTo,
    subject: headerSafe(mail.subject),
    text: mail.text,
    headers: checkedHeaders(mail.headers),
    // The envelope is set explicitly, so the SMTP recipients are exactly the To mailbox whatever
    // the headers say.
    envelope: { from: mail.from.address.trim(), to: [mail.to.address.trim()] },
  };
  if (mail.envelopeFrom) {
    const envelopeFrom = checkedMailbox('envelopeFrom', { name: '', address: mail.envelopeFrom });
    options.envelope = { from: typeof envelopeFrom === 'string' ? envelopeFrom : envelopeFrom.address, to: [mail.to.address.trim()] };
  }
  if (mail.inReplyTo) options.inReplyTo = checkedMessageId('inReplyTo', mail.inReplyTo);
  if (mail.references && mail.references.length > 0) options.references = mail.references.map((id) => checkedMessageId('references', id));
  return options;
}

type Prepared = { ok: true; options: SendMailOptions; messageId: string; dkim: DkimKey | undefined } | { ok: false; outcome: SendOutcome };

function prepare(mail: OutgoingMail): Prepared {
  try {
    const options = toNodemailerOptions(mail);
    return { ok: true, options, messageId: String(options.messageId), dkim: mail.dkim };
  } catch (error) {
    if (!(error instanceof InvalidMailError)) throw error;
    // A bad sender is the tenant's or operator's setting: every message would fail alike.
    const failureClass: FailureClass = error.field === 'from' ? 'configuration' : 'permanent';
    return { ok: false, outcome: failed({ failureClass, code: 'EINVALID_MAIL', detail: error.message, hardBounce: false }) };
  }
}

function failed(failure: SmtpFailure): SendOutcome {
  return { status: 'failed', ...failure };
}

function logFailure(log: Logger, outcome: SendOutcome): void {
  if (outcome.status !== 'failed') return;
  // Code and class only: the detail may quote a server reply naming the recipient.
  log.warn({ code: outcome.code, failureClass: outcome.failureClass, hardBounce: outcome.hardBounce }, 'mail send failed');
}

const CLOSED: SmtpFailure = { failureClass: 'transient', code: 'ECLOSED', detail: 'the mailer was closed before the send', hardBounce: false };

/** Keeps the promises of sends under way so close() can wait for them. */
function createInFlight() {
  const pending = new Set<Promise<unknown>>();
  return {
    track<T>(promise: Promise<T>): Promise<T> {
      pending.add(promise);
      void promise.finally(() => pending.delete(promise));
      return promise;
    },
    /** true if everything settled within the time. */
    async settle(withinMs: number): Promise<boolean> {
      if (pending.size === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), withinMs)));
      const settled = Promise.allSettled([...pending]).then(() => true as const);
      const result = await Promise.race([settled, timedOut]);
      clearTimeout(timer);
      return result;
    },
    async settleAll(): Promise<void> {
      await Promise.allSettled([...pending]);
    },
  };
}

// ---------------------------------------------------------------------------------------------

function assertSmtpUrl(smtpUrl: string): void {
  let parsed: URL;
  try {
    parsed = new URL(smtpUrl);
  } catch {
    // The value itself may hold a password: never echo it.
    throw new Error('SMTP_URL is not a valid URL');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  if (!parsed.hostname) throw new Error('SMTP_URL has no host');
}

/** The message's bytes and envelope, composed by nodemailer exactly as its own transports would, signed when a key is given. */
async function composed(mailOptions: SendMailOptions, dkim: DkimKey | undefined): Promise<{ envelope: { from: string; to: string[] }; raw: Buffer }> {
  const node = new MailComposer({ ...mailOptions, disableFileAccess: true, disableUrlAccess: true }).compile();
  const envelope = node.getEnvelope();
  const raw = await node.build();
  return { envelope: { from: envelope.from || '', to: envelope.to }, raw: dkim ? await dkimSigned(raw, dkim) : raw };
}

function createSmtpMailer(smtpUrl: string, options: MailerOptions): Mailer {
  assertSmtpUrl(smtpUrl);
  const { log } = options;
  const sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const closeGraceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  // Settings given as URL query parameters (e.g. ?tls.rejectUnauthorized=false) are kept.
  const pool = createSmtpPool({
    url: smtpUrl,
    maxConnections: options.pool?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    maxMessages: options.pool?.maxMessages ?? DEFAULT_MAX_MESSAGES,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    dnsTimeout: DNS_TIMEOUT_MS,
  });
  const inFlight = createInFlight();
  let closing: Promise<void> | undefined;

  async function deliver(mailOptions: SendMailOptions, dkim: DkimKey | undefined, sendOptions: SendOptions): Promise<SendOutcome> {
    const signal = AbortSignal.timeout(sendTimeoutMs);
    try {
      const response = await pool.send({ ...(await composed(mailOptions, dkim)), handover: sendOptions.handover, signal });
      return { status: 'sent', response: shortDetail(response) };
    } catch (error) {
      if (signal.aborted && (error as { code?: unknown } | null)?.code === 'EABORT') {
        // Our own deadline, not the caller's: report it as the timeout it is.
        return failed({ failureClass: 'transient', code: 'ETIMEDOUT', detail: `no result within ${sendTimeoutMs} ms`, hardBounce: false });
      }
      return failed(classifySmtpError(error));
    }
  }

  return {
    kind: 'smtp',
    async send(mail, sendOptions = {}) {
      if (closing) return failed(CLOSED);
      const prepared = prepare(mail);
      const outcome = prepared.ok ? await inFlight.track(deliver(prepared.options, prepared.dkim, sendOptions)) : prepared.outcome;
      logFailure(log, outcome);
      return outcome;
    },
    async verify() {
      try {
        await pool.verify();
      } catch (error) {
        throw new MailerVerifyError(classifySmtpError(error));
      }
    },
    close() {
      closing ??= (async () => {
        // New sends are refused from here on. Sends already taken (waiting in the pool's queue or
        // on the wire) get the grace period to finish: closing the pool at once would fail the
        // queued ones for nothing.
        if (await inFlight.settle(closeGraceMs)) {
          pool.close(false);
          return;
        }
        log.warn({ closeGraceMs }, 'mail sends still under way at shutdown; closing their connections');
        pool.close(true);
        await inFlight.settleAll();
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------

function createEmlMailer(options: MailerOptions): Mailer {
  const { log, outboxDir } = options;
  // The same composer as for SMTP, handing back the finished RFC 5322 bytes instead of sending.
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  const inFlight = createInFlight();
  let closing: Promise<void> | undefined;

  async function write(mailOptions: SendMailOptions, messageId: string, dkim: DkimKey | undefined, sendOptions: SendOptions): Promise<SendOutcome> {
    let message: Buffer;
    try {
      const info = await composer.sendMail(mailOptions);
      if (!Buffer.isBuffer(info.message)) throw new Error('the stream transport did not return a buffer');
      message = dkim ? await dkimSigned(info.message, dkim) : info.message;
    } catch (error) {
      return failed(classifySmtpError(error));
    }
    const file = outboxFileName(messageId);
    try {
      // The file appears whole or not at all: the write is the handover.
      await sendOptions.handover?.();
      await writeFileAtomically(outboxDir, file, message);
    } catch (error) {
      return failed(classifyOutboxError(error));
    }
    log.info({ file }, 'message written to the outbox');
    return { status: 'sent', response: `written to the outbox as ${file}` };
  }

  return {
    kind: 'eml',
    async send(mail, sendOptions = {}) {
      if (closing) return failed(CLOSED);
      const prepared = prepare(mail);
      const outcome = prepared.ok ? await inFlight.track(write(prepared.options, prepared.messageId, prepared.dkim, sendOptions)) : prepared.outcome;
      logFailure(log, outcome);
      return outcome;
    },
    async verify() {
      try {
        await mkdir(outboxDir, { recursive: true });
        await access(outboxDir, fsConstants.W_OK);
      } catch (error) {
        throw new MailerVerifyError(classifyOutboxError(error));
      }
    },
    close() {
      closing ??= inFlight.settleAll();
      return closing;
    },
  };
}

/** SMTP relay when `smtpUrl` is set (smtp:// or smtps://, credentials in the URL), else the .eml outbox. Throws only for an unusable smtpUrl. */
export function createMailer(options: MailerOptions): Mailer {
  const smtpUrl = options.smtpUrl?.trim();
  return smtpUrl ? createSmtpMailer(smtpUrl, options) : createEmlMailer(options);
}
