import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// A real HTTP webhook receiver on 127.0.0.1 for tests: it records every request, checks the
// Standard Webhooks signature against each secret it was given, the way a partner would (raw
// body + headers), and answers as the test script says (status, Retry-After, delays, hanging,
// endless bodies). Senders must run with allowPrivate: true to reach it.

export interface SignatureCheck {
  secret: string;
  verified: boolean;
  /** The library's reason when it did not verify. */
  error: string | null;
}

export interface ReceivedWebhook {
  method: string;
  path: string;
  /** Lower-case names, as node gives them. */
  headers: Record<string, string>;
  rawBody: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
  /** One entry per receiver secret, in the order given. */
  signatures: SignatureCheck[];
  /** The secrets that verified the request. */
  verifiedWith: string[];
  /** True when at least one secret verified it. */
  verified: boolean;
  receivedAt: Date;
}

export interface ReceiverResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Stream this many filler bytes as the body (stops when the client goes away). */
  streamBytes?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Send the status line, headers and `body` (if any), then never finish the body. */
  hangBody?: boolean;
}

export interface WebhookReceiverOptions {
  secrets?: string[];
  /** `count` is 1 for the first request. Default: 200 with an empty body. */
  respond?: (request: ReceivedWebhook, count: number) => ReceiverResponse;
  /** Path appended to the URL; default `/webhooks`. */
  path?: string;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedWebhook[];
  /** Filler bytes the socket accepted for `streamBytes` responses, summed. */
  readonly bytesStreamed: number;
  /** Resolves once `n` requests have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const secrets = options.secrets ?? [];
  const respond = options.respond ?? (() => ({ status: 200 }));
  const requests: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  let bytesStreamed = 0;
  let closing = false;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = recordRequest(req, Buffer.concat(chunks).toString('utf8'), secrets);
      requests.push(record);
      for (const wake of [...waiters]) wake();
      let plan: ReceiverResponse;
      try {
        plan = respond(record, requests.length);
      } catch {
        plan = { status: 500, body: 'respond() threw' };
      }
      if (plan.hang) return;
      const answer = () => {
        if (closing || res.destroyed) return;
        res.writeHead(plan.status, plan.headers);
        if (plan.hangBody) {
          res.flushHeaders();
          if (plan.body) res.write(plan.body);
        } else if (plan.streamBytes !== undefined) {
          streamFiller(res, plan.streamBytes, (n) => (bytesStreamed += n));
        } else {
          res.end(plan.body ?? '');
        }
      };
      if (plan.delayMs) setTimeout(answer, plan.delayMs);
      else answer();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/webhooks'}`,
    port,
    requests,
    get bytesStreamed() {
      return bytesStreamed;
    },
    waitFor(n, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: expected ${n} request(s) within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      closing = true;
      // Hanging and streaming responses would keep server.close() waiting forever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function recordRequest(req: http.IncomingMessage, rawBody: string, secrets: string[]): ReceivedWebhook {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const signatures = secrets.map((secret) => verifyWith(secret, rawBody, headers));
  const verifiedWith = signatures.filter((s) => s.verified).map((s) => s.secret);
  return {
    method: req.method ?? '',
    path: req.url ?? '',
    headers,
    rawBody,
    json: parseJson(rawBody),
    signatures,
    verifiedWith,
    verified: verifiedWith.length > 0,
    receivedAt: new Date(),
  };
}

function verifyWith(secret: string, rawBody: string, headers: Record<string, string>): SignatureCheck {
  try {
    new Webhook(secret).verify(rawBody, headers, { jsonParse: false });
    return { secret, verified: true, error: null };
  } catch (err) {
    return { secret, verified: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Writes `total` bytes in 64 KiB chunks, waiting for drain, until done or the client leaves. */
function streamFiller(res: http.ServerResponse, total: number, accepted: (n: number) => void): void {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let left = total;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      accepted(piece.length);
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (left === 0 && !res.destroyed) res.end();
  };
  res.on('error', () => {});
  pump();
}
