import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SpellChecker } from '../domain/lint.js';
import { ServiceError } from './errors.js';

/** What every use-case needs from the outside world; tests pass a fixed clock. */
export interface ServiceContext {
  db: Kysely<Database>;
  clock: () => Date;
  /** The English dictionary lint checks spelling with (L7), loaded once per process. */
  spell: SpellChecker;
  /** Which webhook targets registration accepts (the SSRF guard's settings). */
  webhooks: { allowPrivate: boolean; requireHttps: boolean };
  /** Where sandbox tenants' mail is kept as `.eml` copies (`<dir>/<tenant slug>/`); absent: no copies. */
  sandboxOutboxDir?: string;
  /** MAIL_DOMAIN: new tenants' default sending addresses are `<slug>@<mailDomain>`. */
  mailDomain?: string;
}

/** `admin` is the operator's (tenants over HTTP), never in ALL_SCOPES: no tenant token carries it. */
export type Scope = 'followups:read' | 'followups:write' | 'policy:admin' | 'admin';
export const ALL_SCOPES: readonly Scope[] = ['followups:read', 'followups:write', 'policy:admin'];

/** Who is calling, from a verified token: the tenant scopes every query, `sub` is the audit actor. */
export interface Caller {
  tenantId: string;
  sub: string;
  scopes: ReadonlySet<string>;
}

export function requireScope(caller: Caller, scope: Scope): void {
  if (!caller.scopes.has(scope)) {
    throw new ServiceError('FORBIDDEN', `this operation needs the ${scope} scope`);
  }
}
