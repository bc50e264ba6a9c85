import { createHash, randomBytes } from 'node:crypto';
import { insertAuditEvents } from '../db/audit-events.js';
import { findCandidatesByIds } from '../db/candidates.js';
import { isId, newId } from '../db/ids.js';
import { clockForTenant } from './tenant-clock.js';
import { findReviewLinkBySecretHash, insertReviewLink, revokeReviewLinkRow } from '../db/review-links.js';
import { type Caller, CANDIDATE_SCOPES, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, notFound, ServiceError } from './errors.js';
import { mintServerToken } from './tokens.js';

// The candidate's page (API.md "The candidate's page"). A partner asks for a link and sends it
// to the candidate. The link's secret sits in the URL's fragment, which browsers never send to
// a server, so it appears in no access log; the page posts it to the exchange, which answers a
// candidate token of at most an hour. Only the secret's SHA-256 is stored.

export const DEFAULT_REVIEW_LINK_SECONDS = 7 * 86_400;
/** A link may live up to 90 days; a partner sends a new one after that. */
export const MAX_REVIEW_LINK_SECONDS = 90 * 86_400;
/** The session a link opens: short, so a token left in a browser tab soon means nothing. */
export const REVIEW_SESSION_SECONDS = 3_600;

export interface ReviewLinkView {
  id: string;
  url: string;
  expiresAt: Date;
}

export interface ReviewLinkRevocationView {
  id: string;
  revokedAt: Date;
}

export type ReviewSession =
  | { ok: true; token: string; expiresAt: Date; candidateId: string; linkExpiresAt: Date }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' };

function hashOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function securityOf(ctx: ServiceContext) {
  if (!ctx.security) throw new ServiceError('INTERNAL', 'token services are not configured in this process');
  return ctx.security;
}

function publicUrlOf(ctx: ServiceContext): string {
  return (ctx.publicUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
}

export async function createReviewLink(
  ctx: ServiceContext,
  caller: Caller,
  input: { candidateId: string; ttlSeconds?: number | null },
): Promise<ReviewLinkView> {
  requireScope(caller, 'tokens:issue');
  requireTenantWide(caller, 'make review links');
  const ttl = input.ttlSeconds ?? DEFAULT_REVIEW_LINK_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > MAX_REVIEW_LINK_SECONDS) throw badInput('ttlSeconds', `must be between 60 and ${MAX_REVIEW_LINK_SECONDS} (90 days)`);
  const [candidate] = isId(input.candidateId) ? await findCandidatesByIds(ctx.db, caller.tenantId, [input.candidateId], ['id', 'erased_at']) : [];
  if (!candidate || candidate.erased_at) throw notFound('candidate', input.candidateId);
  const secret = randomBytes(32).toString('base64url');
  const now = ctx.clock();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const stored = await insertReviewLink(trx, {
      tenant_id: caller.tenantId,
      id: newId(),
      candidate_id: candidate.id,
      secret_sha256: hashOf(secret),
      created_by: caller.sub,
      created_at: now,
      expires_at: new Date(now.getTime() + ttl * 1000),
    });
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'review_link.created', entityType: 'candidate', entityId: candidate.id, data: { linkId: stored.id, expiresAt: stored.expires_at.toISOString() } },
    ]);
    return stored;
  });
  return { id: row.id, url: `${publicUrlOf(ctx)}/review#${secret}`, expiresAt: row.expires_at };
}

/** The link opens nothing from now on; sessions it already opened end within the hour. */
export async function revokeReviewLink(ctx: ServiceContext, caller: Caller, id: string): Promise<ReviewLinkRevocationView> {
  requireScope(caller, 'tokens:issue');
  requireTenantWide(caller, 'revoke review links');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const row = isId(id) ? await revokeReviewLinkRow(trx, caller.tenantId, id, now) : undefined;
    if (!row) throw notFound('review link', id);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'review_link.revoked', entityType: 'candidate', entityId: row.candidate_id, data: { linkId: row.id } },
    ]);
    return { id: row.id, revokedAt: row.revoked_at! };
  });
}

/**
 * The page's exchange: a link's secret for a candidate session token. Unauthenticated by
 * design (the secret is the credential), so it says only whether the link works, and why not.
 */
export async function exchangeReviewLink(ctx: ServiceContext, secret: string): Promise<ReviewSession> {
  if (secret.length < 20 || secret.length > 200) return { ok: false, reason: 'unknown' };
  const link = await findReviewLinkBySecretHash(ctx.db, hashOf(secret));
  if (!link) return { ok: false, reason: 'unknown' };
  if (link.revoked_at) return { ok: false, reason: 'revoked' };
  // A sandbox's link expires by its test clock, as it was made by it.
  const clock = await clockForTenant(ctx.db, link.tenant_id, ctx.clock);
  const remainingMs = link.expires_at.getTime() - clock().getTime();
  if (remainingMs <= 0) return { ok: false, reason: 'expired' };
  const [candidate] = await findCandidatesByIds(ctx.db, link.tenant_id, [link.candidate_id], ['id', 'erased_at']);
  if (!candidate || candidate.erased_at) return { ok: false, reason: 'revoked' };
  // Never past the link's own end: a session cannot outlive the link that opened it.
  const lifetime = Math.max(1, Math.min(REVIEW_SESSION_SECONDS, Math.floor(remainingMs / 1000)));
  const minted = mintServerToken(securityOf(ctx).keyRing, {
    tenantId: link.tenant_id,
    sub: `candidate:${link.candidate_id}`,
    candidateId: link.candidate_id,
    scopes: [...CANDIDATE_SCOPES],
    expiresIn: lifetime,
  });
  return { ok: true, token: minted.token, expiresAt: minted.expiresAt, candidateId: link.candidate_id, linkExpiresAt: link.expires_at };
}
