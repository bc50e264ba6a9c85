import { Readable } from 'node:stream';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

// A pool of SMTP connections that lets its caller choose the moment each message is handed over.
// A message counts as delivered once the server has its last line (the lone "."): a sender that
// dies after that point and before it has recorded the delivery sends the message again when it
// recovers. nodemailer's own pool starts reading a message before the server has taken the
// envelope, so it cannot hold that last line back; here the body goes out after DATA and ends
// only when `handover()` resolves, which lets the worker keep at most one message at a time
// between "the server may have it" and "we know it was sent".

export interface SmtpPoolOptions {
  /** smtp:// or smtps:// with credentials, as nodemailer reads it (query parameters included). */
  url: string;
  maxConnections: number;
  /** Messages per connection before it is replaced. */
  maxMessages: number;
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  dnsTimeout: number;
}

export interface PooledMessage {
  envelope: { from: string; to: string[] };
  /** The whole RFC 5322 message. */
  raw: Buffer;
  /** Awaited once the server has taken the envelope and the body, before the message is ended. */
  handover?: () => Promise<void>;
  /** Aborting closes the connection the message is on (or stops its wait for one). */
  signal?: AbortSignal;
}

interface Pooled {
  smtp: SMTPConnection;
  sent: number;
  dead: boolean;
  /** Fails the send under way, if any: a connection closed by us forgets it without a word. */
  abandon?: (error: unknown) => void;
}

function smtpError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function abortError(): Error {
  return smtpError('the send was aborted', 'EABORT');
}

export function createSmtpPool(options: SmtpPoolOptions) {
  const { auth, ...fromUrl } = parseConnectionUrl(options.url) as ReturnType<typeof parseConnectionUrl> & { auth?: { user: string; pass: string } };
  const connectionOptions = {
    ...fromUrl,
    connectionTimeout: options.connectionTimeout,
    greetingTimeout: options.greetingTimeout,
    socketTimeout: options.socketTimeout,
    dnsTimeout: options.dnsTimeout,
    logger: false,
    debug: false,
  };
  const all = new Set<Pooled>();
  const idle: Pooled[] = [];
  const waiting: Array<() => void> = [];
  let closing = false;

  /** Retires a connection: QUIT when it is healthy, else cut, failing whatever it was sending. */
  function drop(pooled: Pooled, reason?: unknown): void {
    if (!all.delete(pooled)) return;
    pooled.dead = true;
    if (reason === undefined) pooled.smtp.quit();
    else {
      pooled.smtp.close();
      // When the server ends the session, nodemailer fails the send with the server's own reply
      // right after; only a send it forgot (we cut the connection) is failed with `reason`.
      setImmediate(() => pooled.abandon?.(reason));
    }
    waiting.shift()?.();
  }

  const closedError = () => smtpError('the connection was closed', 'ECONNECTION');

  /** Opens, greets and logs in; afterwards an error or end from the server just retires it. */
  function connect(): Promise<Pooled> {
    return new Promise((resolve, reject) => {
      const pooled: Pooled = { smtp: new SMTPConnection(connectionOptions), sent: 0, dead: false };
      all.add(pooled);
      let ready = false;
      const fail = (error: unknown) => {
        if (!ready) {
          ready = true;
          reject(error);
        }
        drop(pooled, error);
      };
      pooled.smtp.on('error', fail);
      pooled.smtp.once('end', () => fail(smtpError('the server closed the connection', 'ECONNECTION')));
      pooled.smtp.connect((error) => {
        if (error) return fail(error);
        if (!auth?.user || !pooled.smtp.allowsAuth) {
          ready = true;
          return resolve(pooled);
        }
        pooled.smtp.login(auth, (loginError) => {
          if (loginError) return fail(loginError);
          ready = true;
          resolve(pooled);
        });
      });
    });
  }

  async function acquire(signal: AbortSignal | undefined): Promise<Pooled> {
    for (;;) {
      if (signal?.aborted) throw abortError();
      if (closing) throw smtpError('the pool is closed', 'ECLOSED');
      const reusable = idle.pop();
      if (reusable) {
        if (!reusable.dead) return reusable;
        continue;
      }
      if (all.size < options.maxConnections) return connect();
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', giveUp);
          resolve();
        };
        // Leaving the line on abort, so a connection set free wakes someone still waiting.
        const giveUp = () => {
          const place = waiting.indexOf(wake);
          if (place >= 0) waiting.splice(place, 1);
          resolve();
        };
        waiting.push(wake);
        signal?.addEventListener('abort', giveUp, { once: true });
      });
    }
  }

  function release(pooled: Pooled, healthy: boolean): void {
    if (!healthy) return drop(pooled, closedError());
    if (pooled.dead || closing || pooled.sent >= options.maxMessages) return drop(pooled);
    idle.push(pooled);
    waiting.shift()?.();
  }

  function transmit(pooled: Pooled, message: PooledMessage, onBodyRead: () => void): Promise<string> {
    return new Promise((resolve, reject) => {
      let read = false;
      const body = new Readable({
        read() {
          if (read) return;
          read = true;
          onBodyRead();
          this.push(message.raw);
          if (!message.handover) return void this.push(null);
          message.handover().then(
            () => this.push(null),
            (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
          );
        },
      });
      let settled = false;
      const finish = (error: unknown, response?: string) => {
        if (settled) return;
        settled = true;
        pooled.abandon = undefined;
        message.signal?.removeEventListener('abort', onAbort);
        if (error) reject(message.signal?.aborted ? abortError() : error);
        else resolve(response ?? '');
      };
      const onAbort = () => drop(pooled, abortError());
      pooled.abandon = finish;
      message.signal?.addEventListener('abort', onAbort, { once: true });
      pooled.smtp.send(message.envelope, body, (error, info) => finish(error, String(info?.response ?? '')));
    });
  }

  return {
    /** Resolves with the server's reply to the message; rejects with nodemailer's SMTP error. */
    async send(message: PooledMessage): Promise<string> {
      for (let attempt = 0; ; attempt += 1) {
        const pooled = await acquire(message.signal);
        const reused = pooled.sent > 0;
        let bodyRead = false;
        try {
          const response = await transmit(pooled, message, () => (bodyRead = true));
          pooled.sent += 1;
          release(pooled, true);
          return response;
        } catch (error) {
          release(pooled, false);
          // A connection that sat idle may have been closed by the server in the meantime: if not
          // a byte of this message went out, it goes once more over a fresh connection.
          const dropped = (error as { code?: string }).code === 'ECONNECTION';
          if (reused && dropped && !bodyRead && attempt === 0 && !message.signal?.aborted) continue;
          throw error;
        }
      }
    },
    /** Connects and logs in once, to check the settings. */
    async verify(): Promise<void> {
      release(await acquire(undefined), true);
    },
    /** Idle connections say goodbye; `force` also cuts the ones still sending. */
    close(force: boolean): void {
      closing = true;
      for (const pooled of idle.splice(0)) release(pooled, true);
      if (force) for (const pooled of [...all]) drop(pooled, closedError());
      for (const wake of waiting.splice(0)) wake();
    },
  };
}

export type SmtpPool = ReturnType<typeof createSmtpPool>;
