import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

// A real SMTP server on loopback that keeps every message it accepts, for integration tests, e2e
// tests and benchmarks. It can be told to refuse (451, 550, 421…) per MAIL FROM / RCPT TO / DATA,
// to require authentication, or to speak implicit TLS, and it counts connections so pooling can
// be asserted.

export interface SinkEnvelope {
  mailFrom: string | null;
  rcptTo: string[];
}

export type SinkStage = 'mail' | 'rcpt' | 'data';

export interface SinkEvent {
  stage: SinkStage;
  /** The address of this MAIL FROM / RCPT TO; for 'data' null. */
  address: string | null;
  /** The envelope so far (for 'rcpt', the recipients accepted before this one). */
  envelope: SinkEnvelope;
  /** For 'data': the whole message as received. */
  raw: Buffer | null;
  /** 1-based ordinal of the connection this happens on. */
  connection: number;
  /** 1-based count of events of this stage since start (or reset), this one included. */
  ordinal: number;
}

export interface SinkReply {
  /** 2xx accepts; 4xx/5xx refuse with this code; 421 also closes the connection. */
  code: number;
  message?: string;
}

/** Decides the answer to one command; null/undefined accepts. May be async (e.g. to stall). */
export type SinkResponder = (event: SinkEvent) => SinkReply | null | undefined | Promise<SinkReply | null | undefined>;

export interface SinkMessage {
  envelope: SinkEnvelope;
  raw: Buffer;
  parsed: ParsedMail;
  /** Lower-cased header name → parsed value (mailparser's map). */
  headers: ParsedMail['headers'];
  /** Header lines as written by the sender, in order. */
  headerLines: ParsedMail['headerLines'];
  text: string;
  subject: string | undefined;
  messageId: string | undefined;
  /** The authenticated user, if the session authenticated. */
  user: string | null;
  connection: number;
  receivedAt: Date;
}

export interface SmtpSinkOptions {
  respond?: SinkResponder;
  /** Require AUTH (PLAIN/LOGIN) with exactly these credentials; without it AUTH is optional and any credentials pass. */
  auth?: { user: string; pass: string };
  /** Implicit TLS (smtps) with smtp-server's built-in test certificate (expired, self-signed). */
  secure?: boolean;
  /** Maximum message size in bytes, advertised with SIZE and enforced with 552. Default 10 MiB. */
  size?: number;
  /** How long close() lets clients finish before it cuts their connections. Default 500 ms. */
  closeTimeoutMs?: number;
}

export interface SinkStats {
  /** Connections opened since start (or reset). */
  connections: number;
  /** Connections open right now. */
  openConnections: number;
  /** Most connections open at the same time since start (or reset). */
  maxOpenConnections: number;
  /** Commands refused through `respond` or for size. */
  refusals: number;
  authFailures: number;
  /** Errors the server reported (failed TLS handshakes, resets); kept rather than thrown. */
  errors: Error[];
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** smtp://127.0.0.1:port (smtps:// when secure), without credentials. */
  readonly url: string;
  /** Accepted messages, in order of acceptance. */
  readonly messages: readonly SinkMessage[];
  readonly stats: Readonly<SinkStats>;
  /** Replaces the responder (null: accept everything). */
  setResponder(respond: SinkResponder | null): void;
  /** Resolves with the messages once at least `count` have been accepted; rejects after timeoutMs. */
  waitForMessages(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  /** Forgets messages and counters (open connections stay counted as open). */
  reset(): void;
  /** A relay outage: stops listening (connections are refused) and cuts the open ones. */
  refuseConnections(): Promise<void>;
  /** The relay is back: listens again on the same port. */
  acceptConnections(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_SIZE = 10 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT_MS = 500;
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

interface SessionState {
  connection: number;
}

interface Waiter {
  count: number;
  resolve: (messages: SinkMessage[]) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

function smtpError(reply: SinkReply): Error & { responseCode: number } {
  return Object.assign(new Error(reply.message ?? (reply.code >= 500 ? 'Refused by the test sink' : 'Try again later')), { responseCode: reply.code });
}

function envelopeOf(session: SMTPServerSession): SinkEnvelope {
  const mailFrom = session.envelope.mailFrom;
  return {
    mailFrom: mailFrom ? mailFrom.address : null,
    rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
  };
}

/** Starts the sink on 127.0.0.1 and an ephemeral port. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  let respond: SinkResponder | null = options.respond ?? null;
  const messages: SinkMessage[] = [];
  const waiters = new Set<Waiter>();
  // Keyed by session id: smtp-server hands the hooks the session of the connection they run on.
  const sessions = new Map<string, SessionState>();
  const stats: SinkStats = { connections: 0, openConnections: 0, maxOpenConnections: 0, refusals: 0, authFailures: 0, errors: [] };
  const ordinals: Record<SinkStage, number> = { mail: 0, rcpt: 0, data: 0 };

  function connectionOf(session: SMTPServerSession): number {
    return sessions.get(session.id)?.connection ?? 0;
  }

  /** Runs the responder; returns the error to answer with, or null to accept. */
  async function decide(stage: SinkStage, session: SMTPServerSession, address: string | null, raw: Buffer | null): Promise<Error | null> {
    ordinals[stage] += 1;
    if (!respond) return null;
    const reply = await respond({ stage, address, envelope: envelopeOf(session), raw, connection: connectionOf(session), ordinal: ordinals[stage] });
    if (!reply || (reply.code >= 200 && reply.code < 300)) return null;
    stats.refusals += 1;
    return smtpError(reply);
  }

  function notifyWaiters(): void {
    for (const waiter of waiters) {
      if (messages.length >= waiter.count) {
        clearTimeout(waiter.timer);
        waiters.delete(waiter);
        waiter.resolve(messages.slice());
      }
    }
  }

  async function receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      // Past the limit keep draining, but stop buffering: smtp-server flags sizeExceeded.
      if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
    }
    if (stream.sizeExceeded) {
      stats.refusals += 1;
      throw Object.assign(new Error('Message exceeds the size limit of the test sink'), { responseCode: 552 });
    }
    // Arrival is when the message's last byte came in, not when parsing it ended: a parse delayed
    // on a busy machine would bunch arrival times together.
    const receivedAt = new Date();
    const raw = Buffer.concat(chunks);
    const refusal = await decide('data', session, null, raw);
    if (refusal) throw refusal;
    const parsed = await simpleParser(raw);
    const message: SinkMessage = {
      envelope: envelopeOf(session),
      raw,
      parsed,
      headers: parsed.headers,
      headerLines: parsed.headerLines,
      text: parsed.text ?? '',
      subject: parsed.subject,
      messageId: parsed.messageId,
      user: typeof session.user === 'string' ? session.user : null,
      connection: connectionOf(session),
      receivedAt,
    };
    // Recorded before the 250 goes out, so a client that awaited its send finds the message here.
    messages.push(message);
    notifyWaiters();
    return `Message queued as sink-${messages.length}`;
  }

  const server = new SMTPServer({
    secure: options.secure ?? false,
    authOptional: !options.auth,
    // Loopback only: plain-text AUTH is fine here and keeps the sink free of certificates.
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: ['STARTTLS'],
    size: options.size ?? DEFAULT_SIZE,
    logger: false,
    closeTimeout: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    onConnect(session, callback) {
      stats.connections += 1;
      stats.openConnections += 1;
      stats.maxOpenConnections = Math.max(stats.maxOpenConnections, stats.openConnections);
      sessions.set(session.id, { connection: stats.connections });
      callback();
    },
    onClose(session) {
      if (sessions.delete(session.id)) stats.openConnections = Math.max(0, stats.openConnections - 1);
    },
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (!expected || (auth.username === expected.user && auth.password === expected.pass)) {
        callback(null, { user: auth.username });
        return;
      }
      stats.authFailures += 1;
      callback(new Error('Invalid username or password'));
    },
    onMailFrom(address: SMTPServerAddress, session, callback) {
      decide('mail', session, address.address, null).then((error) => callback(error), callback);
    },
    onRcptTo(address: SMTPServerAddress, session, callback) {
      decide('rcpt', session, address.address, null).then((error) => callback(error), callback);
    },
    onData(stream, session, callback) {
      receive(stream, session).then(
        (reply) => callback(null, reply),
        (error: Error) => callback(error),
      );
    },
  });
  // Without a listener a failed TLS handshake or a reset socket would be an uncaught 'error'.
  server.on('error', (error: Error) => stats.errors.push(error));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  const host = '127.0.0.1';
  let closed: Promise<void> | undefined;

  return {
    host,
    port,
    url: `${options.secure ? 'smtps' : 'smtp'}://${host}:${port}`,
    messages,
    stats,
    setResponder(next) {
      respond = next;
    },
    waitForMessages(count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) {
      if (messages.length >= count) return Promise.resolve(messages.slice());
      return new Promise<SinkMessage[]>((resolve, reject) => {
        const waiter: Waiter = {
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`smtp sink: expected ${count} messages within ${timeoutMs} ms, got ${messages.length}`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    reset() {
      messages.length = 0;
      ordinals.mail = ordinals.rcpt = ordinals.data = 0;
      Object.assign(stats, { connections: 0, maxOpenConnections: stats.openConnections, refusals: 0, authFailures: 0, errors: [] });
    },
    refuseConnections() {
      return new Promise<void>((resolve) => {
        server.server.close(() => resolve());
        for (const connection of (server as unknown as { connections: Set<{ close(): void }> }).connections) connection.close();
      });
    },
    acceptConnections() {
      return new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.server.listen(port, host, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const waiter of waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`smtp sink closed while waiting for ${waiter.count} messages (got ${messages.length})`));
        }
        waiters.clear();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
