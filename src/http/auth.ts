import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isId } from '../db/ids.js';
import { SERVER_KID_PREFIX, type ServerKeyRing } from '../security/jwt-keys.js';
import type { TenantAccess, TenantAccessCache } from '../security/tenant-access.js';
import { type Caller, CANDIDATE_SCOPES } from '../services/context.js';
import { ServiceError } from '../services/errors.js';
import { isOperatorToken } from '../services/operator-access.js';
import { MAX_CANDIDATE_TOKEN_SECONDS, MAX_SERVER_TOKEN_SECONDS, type TokenClaims } from '../services/tokens.js';

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

// Three kinds of token, all JWTs naming their key in the `kid` header:
// - server tokens (HS256, a secret of the JWT_SECRET ring, kid `av-…`), up to 400 days;
// - candidate tokens: server tokens with a `candidate` claim, up to 24 h;
// - partner-signed tokens (ES256/RS256, a public key the tenant registered), exp at most 24 h ahead.
// Every token carries exp, iat and jti. After the signature, the tenant's access facts (from a
// per-replica cache a few seconds old, see tenant-access.ts) say whether the tenant is disabled
// and whether the token was revoked: no query per request while the entry is fresh.

/** Clocks differ a little between us and a partner's signer. */
const CLOCK_SKEW_SECONDS = 60;

function unauthenticated(message: string): ServiceError {
  return new ServiceError('UNAUTHENTICATED', message);
}

interface DecodedToken {
  header: { alg?: unknown; kid?: unknown };
  payload: Partial<Record<keyof TokenClaims, unknown>>;
}

/** What the key callback learnt, for the checks after the signature. */
interface Verification {
  partnerSigned: boolean;
  access?: TenantAccess;
}

const verifications = new WeakMap<FastifyRequest, Verification>();

async function authPlugin(app: FastifyInstance, options: { keyRing: ServerKeyRing; access: TenantAccessCache }) {
  const { keyRing, access } = options;

  // The key callback: the header's kid picks the key, and the key fixes the algorithm, so an
  // HS256 token can never be checked against a public key (algorithm confusion) nor the reverse.
  const keyFor = async (request: FastifyRequest, decoded: DecodedToken): Promise<string> => {
    const { kid, alg } = decoded.header;
    if (typeof kid !== 'string' || kid.length === 0) throw unauthenticated('the token names no key (kid header)');
    if (kid.startsWith(SERVER_KID_PREFIX)) {
      const key = keyRing.byKid.get(kid);
      if (!key) throw unauthenticated('the token is signed with a key this service does not know');
      if (alg !== 'HS256') throw unauthenticated('the token’s algorithm does not match its key');
      verifications.set(request, { partnerSigned: false });
      return key.secret;
    }
    const tenantId = decoded.payload.tenant;
    if (typeof tenantId !== 'string' || !isId(tenantId)) throw unauthenticated('the token lacks the tenant and sub claims');
    const facts = await access.get(tenantId);
    const key = facts?.signingKeys.get(kid);
    if (!facts || !key) throw unauthenticated('the token is signed with a key this service does not know');
    if (alg !== key.algorithm) throw unauthenticated('the token’s algorithm does not match its key');
    verifications.set(request, { partnerSigned: true, access: facts });
    return key.pem;
  };

  await app.register(fastifyJwt, {
    secret: keyFor as never,
    sign: { algorithm: 'HS256' },
    // The key callback reads the header (kid, alg) as well as the payload.
    decode: { complete: true },
    verify: { algorithms: ['HS256', 'ES256', 'RS256'] },
  });

  app.decorateRequest('caller', null);
  app.decorate('authenticate', async (request: FastifyRequest): Promise<Caller> => {
    if (request.caller) return request.caller;
    if (!request.headers.authorization) throw unauthenticated('a bearer token is required (Authorization: Bearer <token>)');
    let claims: TokenClaims;
    try {
      claims = await request.jwtVerify<TokenClaims>();
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      const code = (error as { code?: string }).code;
      throw unauthenticated(code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'the token has expired' : 'the token is missing, malformed or not signed by this service');
    }
    const verification = verifications.get(request) ?? { partnerSigned: false };
    if (typeof claims.tenant !== 'string' || !isId(claims.tenant) || typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw unauthenticated('the token lacks the tenant and sub claims');
    }
    const { exp, iat, jti } = claims;
    if (typeof exp !== 'number' || typeof iat !== 'number' || typeof jti !== 'string' || jti.length === 0 || jti.length > 200) {
      throw unauthenticated('the token must carry exp, iat and jti');
    }
    const nowSeconds = Date.now() / 1000;
    if (iat > nowSeconds + CLOCK_SKEW_SECONDS) throw unauthenticated('the token is issued in the future (iat)');
    const candidate = claims.candidate;
    if (candidate !== undefined && (typeof candidate !== 'string' || !isId(candidate))) throw unauthenticated('the token’s candidate claim is not a candidate id');
    if (verification.partnerSigned) {
      if (exp > nowSeconds + MAX_CANDIDATE_TOKEN_SECONDS + CLOCK_SKEW_SECONDS) throw unauthenticated('a partner-signed token may expire at most 24 h ahead');
    } else if (exp - iat > (candidate !== undefined ? MAX_CANDIDATE_TOKEN_SECONDS : MAX_SERVER_TOKEN_SECONDS)) {
      throw unauthenticated(`the token lives longer than ${candidate !== undefined ? '24 hours, the most for a candidate token' : '400 days'}`);
    }
    // An operator token (the admin scope, signed by this service) names no real tenant: it may
    // only manage tenants, so there are no tenant facts to check.
    const operator = !verification.partnerSigned && candidate === undefined && isOperatorToken(claims);
    const facts = operator ? undefined : (verification.access ?? (await access.get(claims.tenant)));
    if (!facts && !operator) throw unauthenticated('the token names a tenant that does not exist');
    if (facts?.disabled) throw unauthenticated('the tenant is disabled');
    if (facts && ((facts.revokedBefore !== null && iat * 1000 < facts.revokedBefore) || facts.revokedJtis.has(jti))) {
      throw unauthenticated('the token has been revoked');
    }
    let scopes = new Set((typeof claims.scope === 'string' ? claims.scope : '').split(/\s+/).filter(Boolean));
    // A candidate token reaches at most the candidate's own follow-ups, whatever it claims.
    if (candidate !== undefined) scopes = new Set([...scopes].filter((scope) => (CANDIDATE_SCOPES as readonly string[]).includes(scope)));
    request.caller = { tenantId: claims.tenant, sub: claims.sub, scopes, ...(candidate !== undefined ? { candidateId: candidate } : {}) };
    return request.caller;
  });
}

export const auth = fp(authPlugin, { name: 'afterview-auth' });
