import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { exchangeReviewLink } from '../services/review-links.js';
import type { ServiceContext } from '../services/context.js';

// The candidate's page (src/web): static files from our own folder, and the exchange that turns
// a link's secret into a short candidate session. The page then calls POST /graphql like any
// partner frontend; it holds no business rules.

const WEB_DIR = new URL('../web/', import.meta.url);

const ASSET_TYPES: Record<string, string> = {
  'page.css': 'text/css; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
};

// No inline script or style, nothing from another origin, never framed.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Exchanges per minute per address: plenty for a person reloading, few for a guesser. */
export const REVIEW_EXCHANGES_PER_MINUTE = 30;

const REFUSALS = {
  unknown: { status: 404, error: 'LINK_UNKNOWN', message: 'this link is not valid' },
  expired: { status: 410, error: 'LINK_EXPIRED', message: 'this link has expired' },
  revoked: { status: 410, error: 'LINK_REVOKED', message: 'this link has been withdrawn' },
} as const;

export async function reviewPageRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  const page = fs.readFileSync(new URL('index.html', WEB_DIR));
  const assets = new Map(Object.keys(ASSET_TYPES).map((name) => [name, fs.readFileSync(new URL(name, WEB_DIR))]));

  const securityHeaders = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  app.get('/review', { config: { rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    reply.headers({ ...securityHeaders, 'cache-control': 'no-store' }).type('text/html; charset=utf-8');
    return page;
  });

  app.get<{ Params: { name: string } }>('/review/assets/:name', { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
    const { name } = request.params;
    const body = Object.hasOwn(ASSET_TYPES, name) ? assets.get(name) : undefined;
    if (!body) return reply.code(404).send({ error: 'NOT_FOUND', message: `no page asset named ${name}` });
    reply.headers({ ...securityHeaders, 'cache-control': 'public, max-age=300' }).type(ASSET_TYPES[name]!);
    return body;
  });

  app.post<{ Body: { secret: string } }>(
    '/review/session',
    {
      config: { rateLimit: { max: REVIEW_EXCHANGES_PER_MINUTE, timeWindow: '1 minute', keyGenerator: (request) => `review:${request.ip}` } },
      schema: {
        hide: true,
        body: {
          type: 'object',
          required: ['secret'],
          additionalProperties: false,
          properties: { secret: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const session = await exchangeReviewLink(options.services, request.body.secret);
      if (!session.ok) {
        const refusal = REFUSALS[session.reason];
        return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
      }
      return { token: session.token, expiresAt: session.expiresAt.toISOString(), candidateId: session.candidateId, linkExpiresAt: session.linkExpiresAt.toISOString() };
    },
  );
}
