import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { isId } from '../db/ids.js';
import type { Caller } from '../services/context.js';
import { ServiceError } from '../services/errors.js';
import { isOperatorToken } from '../services/operator-access.js';
import { tenantExists } from '../services/tenants.js';
import type { TokenClaims } from '../services/tokens.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<Caller>;
  }
}

// Tenants are never deleted, so a tenant once seen stays valid: remembering it saves a query
// on every request. Unknown ids are not remembered, so a new tenant works at once.
const KNOWN_TENANT_LIMIT = 10_000;

function unauthenticated(message: string): ServiceError {
  return new ServiceError('UNAUTHENTICATED', message);
}

async function authPlugin(app: FastifyInstance, options: { secret: string; db: Kysely<Database> }) {
  await app.register(fastifyJwt, {
    secret: options.secret,
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'] },
  });
  const knownTenants = new Set<string>();

  app.decorateRequest('caller', null);
  app.decorate('authenticate', async (request: FastifyRequest): Promise<Caller> => {
    if (request.caller) return request.caller;
    if (!request.headers.authorization) throw unauthenticated('a bearer token is required (Authorization: Bearer <token>)');
    let claims: TokenClaims;
    try {
      claims = await request.jwtVerify<TokenClaims>();
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw unauthenticated(code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'the token has expired' : 'the token is missing, malformed or not signed by this service');
    }
    if (typeof claims.tenant !== 'string' || !isId(claims.tenant) || typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw unauthenticated('the token lacks the tenant and sub claims');
    }
    // An operator token (the admin scope) names no real tenant: it may only manage tenants.
    if (!knownTenants.has(claims.tenant) && !isOperatorToken(claims)) {
      if (!(await tenantExists(options.db, claims.tenant))) throw unauthenticated('the token names a tenant that does not exist');
      if (knownTenants.size >= KNOWN_TENANT_LIMIT) knownTenants.clear();
      knownTenants.add(claims.tenant);
    }
    const scope = typeof claims.scope === 'string' ? claims.scope : '';
    request.caller = { tenantId: claims.tenant, sub: claims.sub, scopes: new Set(scope.split(/\s+/).filter(Boolean)) };
    return request.caller;
  });
}

export const auth = fp(authPlugin, { name: 'afterview-auth' });
