import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SpellChecker } from '../domain/lint.js';
import type { ServerKeyRing } from '../security/jwt-keys.js';
import type { TenantAccessCache } from '../security/tenant-access.js';
import { ServiceError } from './errors.js';

/** What every use-case needs from the outside world; tests pass a fixed clock. */
export interface ServiceContext {
  db: Kysely<Database>;
  clock: () => Date;
  /** The English dictionary lint checks spelling with (L7), loaded once per process. */
  spell: SpellChecker;
  /** Which webhook targets registration accepts (the SSRF guard's settings). */
  webhooks: { allowPrivate: boolean; requireHttps: boolean };
  /** Minting and revoking tokens: the server's signing keys and this replica's access cache. */
  security?: { keyRing: ServerKeyRing; access: TenantAccessCache };
  /** PUBLIC_URL: where the candidate's page lives, the base of review links. */
  publicUrl?: string;
  /** Where sandbox tenants' mail is kept as `.eml` copies (`<dir>/<tenant slug>/`); absent: no copies. */
  sandboxOutboxDir?: string;
  /** MAIL_DOMAIN: new tenants' default sending addresses are `<slug>@<mailDomain>`. */
  mailDomain?: string;
}

/** `admin` is the operator's (tenants over HTTP), never in ALL_SCOPES: no tenant token carries it. */
export type Scope = 'followups:read' | 'followups:write' | 'policy:admin' | 'tokens:issue' | 'admin';
export const ALL_SCOPES: readonly Scope[] = ['followups:read', 'followups:write', 'policy:admin', 'tokens:issue'];
/** All a candidate token may carry: reading and acting on the candidate's own follow-ups. */
export const CANDIDATE_SCOPES: readonly Scope[] = ['followups:read', 'followups:write'];

/** Who is calling, from a verified token: the tenant scopes every query, `sub` is the audit actor. */
export interface Caller {
  tenantId: string;
  sub: string;
  scopes: ReadonlySet<string>;
  /** Set for a candidate token: every use-case sees only this candidate's rows. */
  candidateId?: string;
}

export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.has(scope)) {
    throw new ServiceError('FORBIDDEN', `this operation needs the ${scope} scope`);
  }
}

/**
 * For operations over the whole tenant (policy, webhooks, suppressions, new candidates, tokens):
 * a candidate token may not use them at all.
 */
export function requireTenantWide(caller: Caller, what: string): void {
  if (caller.candidateId !== undefined) throw new ServiceError('FORBIDDEN', `a candidate token cannot ${what}`);
}
