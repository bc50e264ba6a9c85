import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { MAX_RETRY_AFTER_MS } from './retry-schedule.js';
import { BLOCKED_ADDRESS_CODE, checkWebhookUrl, createSafeLookup } from './target-guard.js';

// One HTTP attempt of a webhook delivery. It never throws: every way an attempt can end becomes a
// WebhookAttemptResult the worker stores and turns into "done", "retry later", "endpoint gone" or
// "refused". Redirects are never followed (undici's request does not follow them), since a
// redirect could point past the SSRF guard and would replay a signed body to a third party.

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
export const RESPONSE_EXCERPT_BYTES = 1024;
export const WEBHOOK_USER_AGENT = 'Afterview-Webhooks/1';

export type WebhookAttemptOutcome = 'delivered' | 'failed' | 'gone' | 'refused';

export interface WebhookAttemptResult {
  /** delivered: 2xx. gone: 410. refused: the guard refused the target, nothing was sent. failed: all else. */
  outcome: WebhookAttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  /** From `Retry-After` on 429/503 (seconds or HTTP date), capped at 24 h. */
  retryAfterMs: number | null;
  error: string | null;
  /** At most 1 KiB of the response body, for the delivery log. */
  responseExcerpt: string | null;
}

export interface PostWebhookInput {
  url: string;
  body: string;
  /** The signature headers (and anything else); content-type and user-agent are set here. */
  headers: Record<string, string>;
  /** Deadline for the whole exchange: connect, headers and the (capped) body. */
  timeoutMs?: number;
  allowPrivate: boolean;
  requireHttps: boolean;
  maxResponseBytes?: number;
}

// One pooled agent per setting; each connects only through the safe lookup, so keep-alive
// connections were all opened to addresses that passed the guard.
const agents = new Map<boolean, Agent>();

function agentFor(allowPrivate: boolean): Agent {
  let agent = agents.get(allowPrivate);
  if (!agent) {
    agent = new Agent({ connect: { lookup: createSafeLookup({ allowPrivate }) } });
    agents.set(allowPrivate, agent);
  }
  return agent;
}

/** Closes pooled connections, for a graceful shutdown; later calls open new ones. */
export async function closeWebhookAgents(): Promise<void> {
  const open = [...agents.values()];
  agents.clear();
  await Promise.all(open.map((agent) => agent.close()));
}

export async function postWebhook(input: PostWebhookInput): Promise<WebhookAttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = input.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const maxResponseBytes = input.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  const check = checkWebhookUrl(input.url, { allowPrivate: input.allowPrivate, requireHttps: input.requireHttps });
  if (!check.ok) return refused(check.reason, elapsed());

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);

  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(check.url, {
        dispatcher: agentFor(input.allowPrivate),
        method: 'POST',
        headers: { 'user-agent': WEBHOOK_USER_AGENT, ...lowerCaseKeys(input.headers), 'content-type': 'application/json' },
        body: input.body,
        signal: controller.signal,
      });
    } catch (err) {
      if (isBlockedAddressError(err)) return refused(describeError(err), elapsed());
      const error = timedOut ? `no response: timed out after ${timeoutMs} ms` : describeError(err);
      return { outcome: 'failed', statusCode: null, durationMs: elapsed(), retryAfterMs: null, error, responseExcerpt: null };
    }

    const { statusCode } = response;
    const body = await readCapped(response.body, maxResponseBytes, () => timedOut);
    const retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfter(response.headers['retry-after'], Date.now()) : null;
    return {
      outcome: outcomeFor(statusCode),
      statusCode,
      durationMs: elapsed(),
      retryAfterMs,
      // The status line is the partner's answer; a body that times out or breaks afterwards is
      // noted but does not change the outcome (a 2xx stays delivered).
      error: statusError(statusCode) ?? body.error,
      responseExcerpt: excerpt(body.bytes),
    };
  } finally {
    clearTimeout(timer);
  }
}

function outcomeFor(statusCode: number): WebhookAttemptOutcome {
  if (statusCode >= 200 && statusCode < 300) return 'delivered';
  if (statusCode === 410) return 'gone';
  return 'failed';
}

function statusError(statusCode: number): string | null {
  if (statusCode >= 200 && statusCode < 300) return null;
  if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: redirects are not followed`;
  return `HTTP ${statusCode}`;
}

function refused(reason: string, durationMs: number): WebhookAttemptResult {
  return { outcome: 'refused', statusCode: null, durationMs, retryAfterMs: null, error: `target refused: ${reason}`, responseExcerpt: null };
}

/**
 * Reads at most `limit` bytes of the body, then destroys the stream (which closes the connection),
 * so an endless or huge body costs at most `limit` bytes and returns at once.
 */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  timedOut: () => boolean,
): Promise<{ bytes: Buffer; error: string | null }> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      const room = limit - size;
      if (buffer.length >= room) {
        chunks.push(buffer.subarray(0, room));
        size += room;
        body.destroy();
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
    return { bytes: Buffer.concat(chunks, size), error: null };
  } catch (err) {
    body.destroy();
    const error = timedOut() ? 'response body timed out' : `response body: ${describeError(err)}`;
    return { bytes: Buffer.concat(chunks, size), error };
  }
}

function excerpt(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  // A cut inside a multi-byte character decodes to U+FFFD; drop that stray replacement.
  const cut = bytes.length > RESPONSE_EXCERPT_BYTES;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, RESPONSE_EXCERPT_BYTES));
  return cut ? text.replace(/\uFFFD+$/, '') : text;
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; a date in the past is 0.
 * Capped at 24 h; null when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return null;
  let ms: number;
  if (/^\d+$/.test(raw)) {
    ms = Number(raw) * 1000;
  } else {
    // Date.parse takes nearly anything ("-5", "1"); HTTP dates all start with a day name.
    if (!/^[A-Za-z]{3,9},? /.test(raw)) return null;
    const at = Date.parse(raw);
    if (Number.isNaN(at)) return null;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

function isBlockedAddressError(err: unknown): boolean {
  // net hands the lookup's error to the socket; walk `cause` in case a layer wraps it.
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === BLOCKED_ADDRESS_CODE) return true;
  }
  return false;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 500);
  const code = (err as { code?: unknown }).code;
  // Happy Eyeballs (several addresses, all failing) reports an AggregateError with no message.
  if (err instanceof AggregateError && err.message === '') {
    const inner = err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e)));
    return `${typeof code === 'string' ? `${code}: ` : ''}${inner.join('; ')}`.slice(0, 500);
  }
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  const text = typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}${cause}` : `${err.message}${cause}`;
  return text.slice(0, 500);
}
