import { createPublicKey, type KeyObject } from 'node:crypto';
import { insertAuditEvents } from '../db/audit-events.js';
import { findCandidatesByIds } from '../db/candidates.js';
import { isId } from '../db/ids.js';
import type { SigningKeyRow } from '../db/schema.js';
import { deleteExpiredRevokedTokens, deleteSigningKeyRow, insertRevokedToken, insertSigningKey, listSigningKeyRows, raiseTokensRevokedBefore } from '../db/token-access.js';
import { SERVER_KID_PREFIX } from '../security/jwt-keys.js';
import { type Caller, CANDIDATE_SCOPES, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, conflict, notFound, ServiceError } from './errors.js';
import { MAX_CANDIDATE_TOKEN_SECONDS, MAX_SERVER_TOKEN_SECONDS, mintServerToken, parseScopes } from './tokens.js';

// Minting candidate tokens, revoking tokens and keeping partners' public keys: all need the
// `tokens:issue` scope, and none is open to a candidate token.

export interface SigningKeyView {
  kid: string;
  algorithm: 'ES256' | 'RS256';
  createdAt: Date;
}

export interface TokenRevocationView {
  issuedBefore: Date | null;
  jti: string | null;
  revokedAt: Date;
}

function securityOf(ctx: ServiceContext) {
  if (!ctx.security) throw new ServiceError('INTERNAL', 'token services are not configured in this process');
  return ctx.security;
}

function requireTokenAdmin(caller: Caller, what: string): void {
  requireScope(caller, 'tokens:issue');
  requireTenantWide(caller, what);
}

/**
 * A token for a partner's frontend, seeing only this candidate: the partner's backend asks for
 * it (with a tokens:issue token that never leaves that backend) and hands it to the browser.
 */
export async function createCandidateToken(
  ctx: ServiceContext,
  caller: Caller,
  input: { candidateId: string; ttlSeconds?: number | null; scope?: string | null },
): Promise<{ token: string; expiresAt: Date }> {
  requireTokenAdmin(caller, 'mint tokens');
  const ttl = input.ttlSeconds ?? 3_600;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_CANDIDATE_TOKEN_SECONDS) throw badInput('ttlSeconds', `must be between 1 and ${MAX_CANDIDATE_TOKEN_SECONDS} (24 hours)`);
  const scopes = input.scope != null ? parseScopes(input.scope) : [...CANDIDATE_SCOPES];
  const beyond = scopes.filter((scope) => !CANDIDATE_SCOPES.includes(scope));
  if (beyond.length > 0) throw badInput('scope', `a candidate token may carry only ${CANDIDATE_SCOPES.join(' ')}, not ${beyond.join(' ')}`);
  const [candidate] = isId(input.candidateId) ? await findCandidatesByIds(ctx.db, caller.tenantId, [input.candidateId], ['id', 'erased_at']) : [];
  if (!candidate || candidate.erased_at) throw notFound('candidate', input.candidateId);
  const minted = mintServerToken(securityOf(ctx).keyRing, {
    tenantId: caller.tenantId,
    sub: `candidate:${candidate.id}`,
    candidateId: candidate.id,
    scopes,
    expiresIn: ttl,
    now: new Date(),
  });
  await insertAuditEvents(ctx.db, caller.tenantId, [
    { actor: caller.sub, action: 'token.issued', entityType: 'candidate', entityId: candidate.id, data: { jti: minted.jti, scope: scopes.join(' '), expiresAt: minted.expiresAt.toISOString() } },
  ]);
  return { token: minted.token, expiresAt: minted.expiresAt };
}

/** Every token of the tenant issued before the instant is refused (the line only moves forward). */
export async function revokeTokens(ctx: ServiceContext, caller: Caller, issuedBefore: Date): Promise<TokenRevocationView> {
  requireTokenAdmin(caller, 'revoke tokens');
  const now = new Date();
  // Allowing a future instant would also refuse the tokens minted from now until then.
  if (issuedBefore.getTime() > now.getTime() + 60_000) throw badInput('issuedBefore', 'must not be in the future');
  const security = securityOf(ctx);
  const effective = await ctx.db.transaction().execute(async (trx) => {
    const line = await raiseTokensRevokedBefore(trx, caller.tenantId, issuedBefore);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'tokens.revoked', entityType: 'tenant', entityId: caller.tenantId, data: { issuedBefore: issuedBefore.toISOString() } },
    ]);
    return line;
  });
  security.access.invalidate(caller.tenantId);
  return { issuedBefore: effective ?? issuedBefore, jti: null, revokedAt: now };
}

/** One token is refused, by its jti, until it would have expired anyway (at most 400 days). */
export async function revokeToken(ctx: ServiceContext, caller: Caller, jti: string): Promise<TokenRevocationView> {
  requireTokenAdmin(caller, 'revoke tokens');
  if (jti.length === 0 || jti.length > 200) throw badInput('jti', 'must be 1 to 200 characters');
  const security = securityOf(ctx);
  const now = new Date();
  await ctx.db.transaction().execute(async (trx) => {
    // Ids of tokens that would have expired by now are of no more use to anyone.
    await deleteExpiredRevokedTokens(trx, now);
    await insertRevokedToken(trx, { tenant_id: caller.tenantId, jti, revoked_at: now, expires_at: new Date(now.getTime() + (MAX_SERVER_TOKEN_SECONDS + 86_400) * 1000) });
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'token.revoked', entityType: 'tenant', entityId: caller.tenantId, data: { jti } },
    ]);
  });
  security.access.invalidate(caller.tenantId);
  return { issuedBefore: null, jti, revokedAt: now };
}

const KID_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

/** ES256 for an EC key on P-256, RS256 for an RSA key of at least 2048 bits; nothing else. */
function algorithmOf(key: KeyObject): SigningKeyView['algorithm'] | null {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  return null;
}

export async function registerSigningKey(ctx: ServiceContext, caller: Caller, input: { kid: string; publicKeyPem: string }): Promise<SigningKeyView> {
  requireTokenAdmin(caller, 'register signing keys');
  if (!KID_PATTERN.test(input.kid)) throw badInput('kid', 'must be 1 to 100 letters, digits, dots, colons, underscores or hyphens');
  if (input.kid.startsWith(SERVER_KID_PREFIX)) throw badInput('kid', `must not start with ${SERVER_KID_PREFIX} (the service's own keys)`);
  if (/PRIVATE KEY/.test(input.publicKeyPem)) throw badInput('publicKeyPem', 'holds a private key: send only the public key, and keep the private one to yourself');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: input.publicKeyPem, format: 'pem' });
  } catch {
    throw badInput('publicKeyPem', 'is not a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) throw badInput('publicKeyPem', 'must be an EC P-256 key (ES256) or an RSA key of at least 2048 bits (RS256)');
  const now = new Date();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const stored = await insertSigningKey(trx, {
      tenant_id: caller.tenantId,
      kid: input.kid,
      algorithm,
      public_key_pem: key.export({ type: 'spki', format: 'pem' }).toString(),
      created_at: now,
    });
    if (!stored) throw conflict(`a signing key with kid ${input.kid} is already registered; delete it first`);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'signing_key.registered', entityType: 'tenant', entityId: caller.tenantId, data: { kid: input.kid, algorithm } },
    ]);
    return stored;
  });
  securityOf(ctx).access.invalidate(caller.tenantId);
  return toSigningKeyView(row);
}

/** Tokens signed with the key are refused from then on (every replica within 5 s). */
export async function deleteSigningKey(ctx: ServiceContext, caller: Caller, kid: string): Promise<SigningKeyView> {
  requireTokenAdmin(caller, 'delete signing keys');
  const row = await ctx.db.transaction().execute(async (trx) => {
    const deleted = await deleteSigningKeyRow(trx, caller.tenantId, kid);
    if (!deleted) throw notFound('signing key', kid);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'signing_key.deleted', entityType: 'tenant', entityId: caller.tenantId, data: { kid } },
    ]);
    return deleted;
  });
  securityOf(ctx).access.invalidate(caller.tenantId);
  return toSigningKeyView(row);
}

export async function listSigningKeys(ctx: ServiceContext, caller: Caller): Promise<SigningKeyView[]> {
  requireTokenAdmin(caller, 'list signing keys');
  return (await listSigningKeyRows(ctx.db, caller.tenantId)).map(toSigningKeyView);
}

function toSigningKeyView(row: SigningKeyRow): SigningKeyView {
  return { kid: row.kid, algorithm: row.algorithm as SigningKeyView['algorithm'], createdAt: row.created_at };
}
