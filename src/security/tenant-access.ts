import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findTenantAccess } from '../db/token-access.js';

// Each replica keeps, per tenant, what authentication needs: disabled or not, the instant
// before which its tokens are revoked, the revoked token ids, and the partner's public keys.
// An entry is trusted for `ttlMs` (2 s by default), then read again: a revocation, a disabled
// tenant or a new key made on any replica takes effect everywhere within that time plus one
// read, and a request costs no query while its tenant's entry is fresh. The replica that makes
// the change also drops its own entry at once.

export interface TenantSigningKey {
  kid: string;
  algorithm: 'ES256' | 'RS256';
  pem: string;
}

export interface TenantAccess {
  disabled: boolean;
  /** Milliseconds since the epoch; tokens issued before it are refused. */
  revokedBefore: number | null;
  revokedJtis: ReadonlySet<string>;
  signingKeys: ReadonlyMap<string, TenantSigningKey>;
}

export interface TenantAccessCache {
  /** The tenant's access facts, at most `ttlMs` old; `null` when the tenant does not exist. */
  get(tenantId: string): Promise<TenantAccess | null>;
  /** Forgets what this replica knows about the tenant (after a change made here). */
  invalidate(tenantId: string): void;
}

export const ACCESS_TTL_MS = 2_000;
const ENTRY_LIMIT = 10_000;

interface Entry {
  access: TenantAccess;
  loadedAt: number;
}

export function createTenantAccessCache(db: Kysely<Database>, options: { ttlMs?: number; now?: () => number } = {}): TenantAccessCache {
  const ttlMs = options.ttlMs ?? ACCESS_TTL_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // One read per tenant at a time, however many requests arrive while it is under way.
  const loading = new Map<string, Promise<TenantAccess | null>>();
  let generation = 0;

  async function load(tenantId: string): Promise<TenantAccess | null> {
    const startedIn = generation;
    const loadedAt = now();
    const row = await findTenantAccess(db, tenantId);
    if (!row) return null;
    const access: TenantAccess = {
      disabled: row.disabled_at !== null,
      revokedBefore: row.tokens_revoked_before ? new Date(row.tokens_revoked_before).getTime() : null,
      revokedJtis: new Set(row.revoked_jtis),
      signingKeys: new Map(row.signing_keys.map((key) => [key.kid, { kid: key.kid, algorithm: key.algorithm as TenantSigningKey['algorithm'], pem: key.pem }])),
    };
    // A read that began before an invalidation may hold the old facts: use it, do not keep it.
    if (startedIn === generation) {
      if (entries.size >= ENTRY_LIMIT) entries.clear();
      entries.set(tenantId, { access, loadedAt });
    }
    return access;
  }

  return {
    get(tenantId) {
      const entry = entries.get(tenantId);
      if (entry && now() - entry.loadedAt < ttlMs) return Promise.resolve(entry.access);
      let pending = loading.get(tenantId);
      if (!pending) {
        pending = load(tenantId).finally(() => loading.delete(tenantId));
        loading.set(tenantId, pending);
      }
      return pending;
    },
    invalidate(tenantId) {
      generation++;
      entries.delete(tenantId);
      loading.delete(tenantId);
    },
  };
}
