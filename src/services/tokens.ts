import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { parseServerKeyRing, type ServerKeyRing } from '../security/jwt-keys.js';
import { ALL_SCOPES, CANDIDATE_SCOPES, type Scope } from './context.js';
import { badInput } from './errors.js';

/**
 * The claims API.md fixes: `tenant` (tenant id), `sub` (the caller), `scope` (space-separated),
 * and on every token `exp`, `iat`, `jti`. A candidate token also names its `candidate`.
 */
export interface TokenClaims {
  tenant: string;
  sub: string;
  scope: string;
  candidate?: string;
  exp?: number;
  iat?: number;
  jti?: string;
}

export const DEFAULT_TOKEN_LIFETIME = '365d';
/** The longest a server token may live (API.md). */
export const MAX_SERVER_TOKEN_SECONDS = 400 * 86_400;
/** The longest a candidate token, or a token a partner signs, may live. */
export const MAX_CANDIDATE_TOKEN_SECONDS = 24 * 3_600;
export const DEFAULT_CANDIDATE_TOKEN_SECONDS = 3_600;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `90s`, `15m`, `1h`, `365d`, or a number of seconds. */
export function parseLifetime(value: string | number, field = 'expiresIn'): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) throw badInput(field, 'must be a whole number of seconds above 0');
    return value;
  }
  const match = /^(\d{1,9})\s*([smhd]?)$/.exec(value.trim());
  if (!match || Number(match[1]) <= 0) throw badInput(field, `must look like 90s, 15m, 1h or 30d, not ${JSON.stringify(value)}`);
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}

export function parseScopes(scope: string): Scope[] {
  const scopes = scope.split(/\s+/).filter(Boolean);
  for (const each of scopes) {
    if (!ALL_SCOPES.includes(each as Scope)) throw badInput('scope', `names an unknown scope ${each}; known: ${ALL_SCOPES.join(' ')}`);
  }
  return scopes as Scope[];
}

export interface MintedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

const rings = new Map<string, ServerKeyRing>();

/** JWT_SECRET as given (a comma-separated ring), parsed once per process. */
export function keyRingOf(secretOrRing: string | ServerKeyRing): ServerKeyRing {
  if (typeof secretOrRing !== 'string') return secretOrRing;
  let ring = rings.get(secretOrRing);
  if (!ring) rings.set(secretOrRing, (ring = parseServerKeyRing(secretOrRing)));
  return ring;
}

/**
 * Signs a server token with the ring's first secret, naming it in `kid`. With `candidateId` it
 * is a candidate token: at most 24 h, and only the candidate scopes.
 */
export function mintServerToken(
  secretOrRing: string | ServerKeyRing,
  claims: { tenantId: string; sub: string; scopes?: readonly Scope[]; expiresIn?: string | number; candidateId?: string; now?: Date },
): MintedToken {
  const ring = keyRingOf(secretOrRing);
  const lifetime = parseLifetime(claims.expiresIn ?? (claims.candidateId ? DEFAULT_CANDIDATE_TOKEN_SECONDS : DEFAULT_TOKEN_LIFETIME));
  const max = claims.candidateId ? MAX_CANDIDATE_TOKEN_SECONDS : MAX_SERVER_TOKEN_SECONDS;
  if (lifetime > max) throw badInput('expiresIn', `must be at most ${claims.candidateId ? '24 hours for a candidate token' : '400 days'}`);
  const scopes = claims.scopes ?? (claims.candidateId ? CANDIDATE_SCOPES : ALL_SCOPES);
  if (claims.candidateId) {
    const beyond = scopes.filter((scope) => !CANDIDATE_SCOPES.includes(scope));
    if (beyond.length > 0) throw badInput('scope', `a candidate token may carry only ${CANDIDATE_SCOPES.join(' ')}, not ${beyond.join(' ')}`);
  }
  const iat = Math.floor((claims.now ?? new Date()).getTime() / 1000);
  const jti = randomUUID();
  const payload: Required<Omit<TokenClaims, 'candidate'>> & { candidate?: string } = {
    tenant: claims.tenantId,
    sub: claims.sub,
    scope: scopes.join(' '),
    ...(claims.candidateId ? { candidate: claims.candidateId } : {}),
    iat,
    exp: iat + lifetime,
    jti,
  };
  // The signer writes iat itself, from the clock it is given.
  const sign = createSigner({ key: ring.signing.secret, algorithm: 'HS256', kid: ring.signing.kid, clockTimestamp: iat * 1000 });
  return { token: sign(payload), jti, expiresAt: new Date(payload.exp * 1000) };
}

/** The token alone, for the CLI, the development tenant and tests. */
export function mintToken(
  secretOrRing: string | ServerKeyRing,
  claims: { tenantId: string; sub: string; scopes?: readonly Scope[]; expiresIn?: string | number; candidateId?: string },
): string {
  return mintServerToken(secretOrRing, claims).token;
}
