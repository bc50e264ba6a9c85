import { createSigner } from 'fast-jwt';
import { ALL_SCOPES, type Scope } from './context.js';
import { badInput } from './errors.js';

/** The claims API.md fixes: `tenant` (tenant id), `sub` (the caller), `scope` (space-separated). */
export interface TokenClaims {
  tenant: string;
  sub: string;
  scope: string;
}

export const DEFAULT_TOKEN_LIFETIME = '365d';

export function parseScopes(scope: string): Scope[] {
  const scopes = scope.split(/\s+/).filter(Boolean);
  for (const each of scopes) {
    if (!ALL_SCOPES.includes(each as Scope)) throw badInput('scope', `names an unknown scope ${each}; known: ${ALL_SCOPES.join(' ')}`);
  }
  return scopes as Scope[];
}

export function mintToken(
  secret: string,
  claims: { tenantId: string; sub: string; scopes?: readonly Scope[]; expiresIn?: string | number },
): string {
  const sign = createSigner({
    key: secret,
    algorithm: 'HS256',
    expiresIn: claims.expiresIn ?? DEFAULT_TOKEN_LIFETIME,
  });
  const payload: TokenClaims = { tenant: claims.tenantId, sub: claims.sub, scope: (claims.scopes ?? ALL_SCOPES).join(' ') };
  return sign(payload);
}
