import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// Three budgets per minute, each 0 to turn it off:
// - per tenant, shared by all its callers, after authentication;
// - per caller (the token's tenant and sub), so one busy integration or person cannot spend
//   the whole tenant's budget;
// - per address, for requests that fail authentication. Once an address has spent it, every
//   request from it is refused before authentication until the minute is over, so a flood of
//   missing or forged tokens costs a map lookup each, not a signature check or a query.
// Routes that need no token (the API docs) count per address against the tenant budget.
// Routes configured with `rateLimit: false` (health, metrics) are never limited.

export interface RateLimits {
  perTenant: number;
  perCaller: number;
  unauthenticatedPerAddress: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perTenant: 6_000, perCaller: 3_000, unauthenticatedPerAddress: 600 };

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Counted = Extract<Awaited<ReturnType<Limiter>>, { isAllowed: false }>;

const WINDOW = '1 minute';

/** Thrown, then answered by the REST or GraphQL error handler in its own shape (429 with Retry-After). */
function refusal(reply: FastifyReply, counted: Counted, whose: string): Error {
  reply.header('x-ratelimit-limit', counted.max);
  reply.header('x-ratelimit-remaining', 0);
  reply.header('x-ratelimit-reset', counted.ttlInSeconds);
  reply.header('retry-after', counted.ttlInSeconds);
  return Object.assign(new Error(`rate limit of ${counted.max} requests per minute ${whose} reached; retry in ${counted.ttlInSeconds} s`), {
    statusCode: 429,
    code: 'RATE_LIMITED',
  });
}

function announce(reply: FastifyReply, counted: Counted): void {
  reply.header('x-ratelimit-limit', counted.max);
  reply.header('x-ratelimit-remaining', counted.remaining);
  reply.header('x-ratelimit-reset', counted.ttlInSeconds);
}

const unlimited = (request: FastifyRequest) => request.routeOptions.config?.rateLimit === false;

async function rateLimitsPlugin(app: FastifyInstance, limits: RateLimits): Promise<void> {
  if (limits.perTenant <= 0 && limits.perCaller <= 0 && limits.unauthenticatedPerAddress <= 0) return;
  // The plugin's own per-route hook is off (global: false); the hooks below call its limiters.
  await app.register(rateLimit, { global: false, timeWindow: WINDOW });
  const limiter = (max: number, keyGenerator?: (request: FastifyRequest) => string) =>
    max > 0 ? app.createRateLimit({ max, timeWindow: WINDOW, ...(keyGenerator ? { keyGenerator } : {}) }) : null;
  // Without a key generator, the plugin's own: the client address (an IPv6 /64 as one).
  const failuresByAddress = limiter(limits.unauthenticatedPerAddress);
  const anonymousByAddress = limiter(limits.perTenant);
  const byTenant = limiter(limits.perTenant, (request) => request.caller!.tenantId);
  const byCaller = limiter(limits.perCaller, (request) => `${request.caller!.tenantId}\n${request.caller!.sub}`);

  if (failuresByAddress) {
    app.addHook('onRequest', async (request, reply) => {
      if (unlimited(request)) return;
      const counted = await failuresByAddress(request, { increment: false });
      if (!counted.isAllowed && counted.remaining === 0) {
        throw refusal(reply, counted, 'for requests from this address that fail authentication');
      }
    });
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && !unlimited(request)) await failuresByAddress(request);
    });
  }

  app.addHook('preHandler', async (request, reply) => {
    if (unlimited(request)) return;
    if (!request.caller) {
      const counted = anonymousByAddress && (await anonymousByAddress(request));
      if (counted && !counted.isAllowed) {
        if (counted.isExceeded) throw refusal(reply, counted, 'for this address');
        announce(reply, counted);
      }
      return;
    }
    let tightest: Counted | undefined;
    for (const [limit, whose] of [
      [byTenant, 'for this tenant'],
      [byCaller, 'for this caller'],
    ] as const) {
      const counted = limit && (await limit(request));
      if (!counted || counted.isAllowed) continue;
      if (counted.isExceeded) throw refusal(reply, counted, whose);
      if (!tightest || counted.remaining < tightest.remaining) tightest = counted;
    }
    if (tightest) announce(reply, tightest);
  });
}

export const rateLimits = fp(rateLimitsPlugin, { name: 'afterview-rate-limits' });
