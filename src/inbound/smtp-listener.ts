import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { errorForLog } from '../logger.js';
import { isInboundDomainAddress } from './reply-token.js';

// The inbound SMTP listener: the MX (or the relay's forward target) for INBOUND_DOMAIN. It takes
// mail only for addresses at that domain (never a relay), up to a size and a number of
// connections, and answers 250 only once the raw message is stored: what it acknowledged
// survives a crash right after. Everything else (parsing, matching, acting) happens later.

export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const MAX_RECIPIENTS = 50;

export interface StoredMessage {
  envelopeFrom: string | null;
  envelopeTo: string[];
  raw: Buffer;
}

export interface InboundSmtpOptions {
  host: string;
  port: number;
  domain: string;
  maxConnections: number;
  log: Logger;
  /** Stores the message durably and resolves with its id; the 250 waits for it. */
  store: (message: StoredMessage) => Promise<string>;
  /** Called after each stored message (to start handling it). */
  onStored?: (id: string) => void;
}

export interface InboundSmtpListener {
  port: number;
  close(): Promise<void>;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

export async function startInboundSmtp(options: InboundSmtpOptions): Promise<InboundSmtpListener> {
  const { log, domain } = options;
  const server = new SMTPServer({
    name: domain,
    banner: 'Afterview inbound mail',
    size: MAX_MESSAGE_BYTES,
    maxClients: options.maxConnections,
    // Plain SMTP on the listener: TLS and authentication belong to the MX or relay in front.
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    hideSize: false,
    logger: false,
    socketTimeout: 60_000,
    closeTimeout: 10_000,
    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      const args = address.args as Record<string, string> | false | undefined;
      const declared = Number((args ? args.SIZE : undefined) ?? 0);
      if (declared > MAX_MESSAGE_BYTES) return callback(smtpError(`message too large (at most ${MAX_MESSAGE_BYTES} bytes)`, 552));
      callback();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      if (!isInboundDomainAddress(address.address, domain)) return callback(smtpError('relay access denied: this server takes mail only for its own domain', 550));
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return callback(smtpError('too many recipients', 452));
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= MAX_MESSAGE_BYTES) chunks.push(chunk);
      });
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        if (stream.sizeExceeded || bytes > MAX_MESSAGE_BYTES) return callback(smtpError(`message too large (at most ${MAX_MESSAGE_BYTES} bytes)`, 552));
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address || null : null;
        options
          .store({ envelopeFrom, envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks) })
          .then(
            (id) => {
              callback(null, `queued as ${id}`);
              options.onStored?.(id);
            },
            (error: unknown) => {
              // Not stored, so not accepted: the sender keeps it and tries again later.
              log.error(errorForLog(error), 'inbound message could not be stored');
              callback(smtpError('temporary failure storing the message, try again later', 451));
            },
          );
      });
    },
  });
  server.on('error', (error) => log.warn(errorForLog(error), 'inbound SMTP connection error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
