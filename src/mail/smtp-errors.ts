// Turns whatever nodemailer (or the outbox writer) threw into the three outcomes the worker acts
// on: retry later (transient), give up on this message (permanent), or stop and alert because
// every message would fail the same way (configuration).

export type FailureClass = 'transient' | 'permanent' | 'configuration';

export interface SmtpFailure {
  failureClass: FailureClass;
  /** Machine-readable: the error code, then ':' and the SMTP reply code when the server replied, e.g. 'EENVELOPE:550'. */
  code: string;
  /** Short text for the database; may quote the server's reply (which can name the recipient). Never logged here. */
  detail: string;
  /** The recipient's server refused the address itself: stop writing to it. */
  hardBounce: boolean;
}

/** The fields nodemailer puts on its errors (see NodemailerError); read defensively from `unknown`. */
interface ErrorFields {
  code: string | undefined;
  originalCode: string | undefined;
  responseCode: number | undefined;
  response: string | undefined;
  command: string | undefined;
  message: string;
}

const DETAIL_MAX_LENGTH = 500;

// Connection-level failures: the message was not (knowingly) refused, the next attempt may pass.
const TRANSIENT_CODES = new Set(['ETIMEDOUT', 'ESOCKET', 'ECONNECTION', 'ECONNRESET', 'ECONNREFUSED', 'EDNS', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPROTOCOL', 'EMAXLIMIT', 'EABORT']);

// Wrong credentials, TLS set-up, an unusable transport configuration: retrying one message cannot
// help and every other message fails the same way, so the worker alerts instead.
const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG', 'EPROXY', 'EFILEACCESS', 'EURLACCESS']);

// Node/OpenSSL codes of a failed TLS handshake. nodemailer reports them as ESOCKET with the
// original code kept in `originalCode`, so without this an expired or self-signed certificate
// (or smtps:// pointed at a plain port) would be retried forever as a "socket" problem.
const TLS_CODE = /^(ETLS|CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_CERT_)/;

// Reply codes that only concern our own session's authentication (RFC 4954): 530 authentication
// required, 534 mechanism too weak, 535 credentials invalid, 538 encryption required.
const AUTH_REPLY_CODES = new Set([530, 534, 535, 538]);

// Enhanced status codes (RFC 3463) about our own authentication or encryption, not the recipient.
const AUTH_ENHANCED_STATUS = /^5\.7\.(0|8|9|10|11)$/;

// Our relay refusing to relay is a setting on our side (missing auth, wrong sender domain).
const RELAY_DENIED = /relay(ing)?\s+(access\s+)?(denied|not\s+permitted|not\s+allowed|prohibited)|unable\s+to\s+relay/i;

// 5.1.x are address problems; 5.1.7 and 5.1.8 concern the *sender*. 5.2.1 is a disabled mailbox.
const RECIPIENT_ENHANCED_STATUS = /^5\.(1\.(?!7$|8$)\d+|2\.1)$/;

// RCPT TO refusals that are not about the address existing: 5.2.2 mailbox full, 5.3.4 message
// too big, 5.7.x policy (e.g. the recipient's domain refusing our sender).
const NOT_ABOUT_THE_ADDRESS = /^5\.(2\.2|3\.4|7\.\d+)$/;

// Reply codes RFC 5321 uses for "no such mailbox / not local / mailbox name not allowed".
const RECIPIENT_REPLY_CODES = new Set([550, 551, 553]);

function readErrorFields(error: unknown): ErrorFields {
  const record = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const asString = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const responseCode = typeof record.responseCode === 'number' && Number.isInteger(record.responseCode) ? record.responseCode : undefined;
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
  return {
    code: asString(record.code),
    originalCode: asString(record.originalCode),
    responseCode,
    response: asString(record.response),
    command: asString(record.command),
    message,
  };
}

/** The first enhanced status code in a reply, e.g. '5.1.1' from '550 5.1.1 <x@y> unknown'. */
function enhancedStatus(response: string | undefined): string | undefined {
  return response ? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1] : undefined;
}

/** One line, no control characters, bounded: safe to store and to show in an API. */
export function shortDetail(text: string): string {
  const oneLine = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return oneLine.length > DETAIL_MAX_LENGTH ? `${oneLine.slice(0, DETAIL_MAX_LENGTH - 1)}…` : oneLine;
}

function isTlsFailure(fields: ErrorFields): boolean {
  return [fields.code, fields.originalCode].some((code) => code !== undefined && TLS_CODE.test(code));
}

function isOwnAuthenticationReply(fields: ErrorFields): boolean {
  if (fields.responseCode === undefined) return false;
  if (AUTH_REPLY_CODES.has(fields.responseCode)) return true;
  const status = enhancedStatus(fields.response);
  if (status !== undefined && AUTH_ENHANCED_STATUS.test(status) && fields.command !== 'RCPT TO') return true;
  return fields.responseCode >= 500 && RELAY_DENIED.test(fields.response ?? '');
}

/**
 * A permanent refusal is a hard bounce only when it is about the recipient's address: a 5xx to
 * RCPT TO, or a 550/551/553 whose enhanced status names an address problem. A 5xx to MAIL FROM
 * or to the content (DATA) says nothing about the interviewer's mailbox.
 */
function isRecipientRefusal(fields: ErrorFields): boolean {
  const status = enhancedStatus(fields.response);
  if (fields.command === 'MAIL FROM') return false;
  // nodemailer reports RCPT TO refusals as EENVELOPE; without a command, EENVELOPE still means the envelope.
  if (fields.command === 'RCPT TO' || (fields.command === undefined && fields.code === 'EENVELOPE')) {
    // Permanent either way, but a full mailbox, an oversized message or a policy refusal does
    // not say the address is bad, so it is not a hard bounce.
    return status === undefined || !NOT_ABOUT_THE_ADDRESS.test(status);
  }
  return fields.responseCode !== undefined && RECIPIENT_REPLY_CODES.has(fields.responseCode) && status !== undefined && RECIPIENT_ENHANCED_STATUS.test(status);
}

function composeCode(fields: ErrorFields): string {
  // For a socket error the original code (ECONNREFUSED, CERT_HAS_EXPIRED) says more than ESOCKET.
  const base = (fields.code === 'ESOCKET' && fields.originalCode) || fields.code || fields.originalCode || 'EUNKNOWN';
  return fields.responseCode !== undefined ? `${base}:${fields.responseCode}` : base;
}

function composeDetail(fields: ErrorFields): string {
  return shortDetail(fields.response ?? fields.message);
}

function classifyFields(fields: ErrorFields): { failureClass: FailureClass; hardBounce: boolean } {
  const { code, responseCode } = fields;
  // Configuration first: an EAUTH carries a 535, which would otherwise read as "permanent".
  if ((code !== undefined && CONFIGURATION_CODES.has(code)) || isTlsFailure(fields) || isOwnAuthenticationReply(fields)) {
    return { failureClass: 'configuration', hardBounce: false };
  }
  if (responseCode !== undefined) {
    // 503 (bad sequence of commands) is a session-state problem, not a refusal of the message;
    // nodemailer itself marks it not permanent, and a new connection gets past it.
    if (responseCode >= 500 && responseCode < 600 && responseCode !== 503) {
      return { failureClass: 'permanent', hardBounce: isRecipientRefusal(fields) };
    }
    return { failureClass: 'transient', hardBounce: false };
  }
  if (code !== undefined && TRANSIENT_CODES.has(code)) return { failureClass: 'transient', hardBounce: false };
  // EENVELOPE without a reply: nodemailer refused the envelope locally (no or invalid recipients);
  // the same message would be refused again.
  if (code === 'EENVELOPE') return { failureClass: 'permanent', hardBounce: false };
  // Anything else (a stream error, a bug in a dependency): retrying is the cautious choice, the
  // worker's attempt limit still ends it.
  return { failureClass: 'transient', hardBounce: false };
}

/** Classifies an error from nodemailer (SMTP or stream transport). Pure; logs nothing. */
export function classifySmtpError(error: unknown): SmtpFailure {
  const fields = readErrorFields(error);
  return { ...classifyFields(fields), code: composeCode(fields), detail: composeDetail(fields) };
}

// Filesystem errors that an operator has to fix (permissions, read-only disk, a file where the
// outbox directory should be); anything else (disk full, too many open files) may pass later.
const FILESYSTEM_CONFIGURATION_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ELOOP', 'ENAMETOOLONG']);

/** Classifies an error from writing to the .eml outbox. */
export function classifyOutboxError(error: unknown): SmtpFailure {
  const fields = readErrorFields(error);
  const code = fields.code ?? 'EOUTBOX';
  const failureClass: FailureClass = FILESYSTEM_CONFIGURATION_CODES.has(code) ? 'configuration' : 'transient';
  return { failureClass, code, detail: shortDetail(fields.message), hardBounce: false };
}
