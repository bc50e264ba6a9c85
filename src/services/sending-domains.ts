import type { Kysely } from 'kysely';
import { insertAuditEvents } from '../db/audit-events.js';
import type { Database, SendingDomainRow } from '../db/schema.js';
import { deleteSendingDomain, findSendingDomains, listSendingDomains, upsertSendingDomain } from '../db/sending-domains.js';
import { findTenantById } from '../db/tenants.js';
import { normaliseDomainName, normaliseSelector, signingDomainsFor } from '../domain/sending-domain.js';
import { type DkimKey, DkimKeyError, dkimDnsRecord, inspectDkimPrivateKey } from '../mail/dkim.js';
import { openSecret, sealSecret } from '../security/secret-box.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { badInput, notFound } from './errors.js';

// Sending domains: a tenant hands us the DKIM private key of a domain it sends from; mail whose
// From is at that domain (or below it) leaves signed with d= that domain. The key is sealed at
// rest and never shown again; what the tenant gets back is the DNS record to publish.

export interface SendingDomainView {
  domain: string;
  selector: string;
  algorithm: string;
  dnsRecordName: string;
  dnsRecordValue: string;
  /** The tenant's sending address is at this domain or below it, so its mail is signed with this key. */
  coversSendingAddress: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConfigureSendingDomainInput {
  domain: string;
  selector: string;
  privateKeyPem: string;
}

export async function configureSendingDomain(ctx: ServiceContext, caller: Caller, input: ConfigureSendingDomainInput): Promise<SendingDomainView> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'configure sending domains');
  const problems: Array<[string, string]> = [];
  const domain = normaliseDomainName(input.domain);
  if (!domain.ok) problems.push(['domain', domain.reason]);
  const selector = normaliseSelector(input.selector);
  if (!selector.ok) problems.push(['selector', selector.reason]);
  let key: ReturnType<typeof inspectDkimPrivateKey> | undefined;
  try {
    key = inspectDkimPrivateKey(input.privateKeyPem);
  } catch (error) {
    if (!(error instanceof DkimKeyError)) throw error;
    problems.push(['privateKeyPem', error.message]);
  }
  if (problems.length > 0 || !domain.ok || !selector.ok || !key) {
    const [field, reason] = problems[0]!;
    throw badInput(field, problems.length === 1 ? reason : `${reason}; ${problems.slice(1).map(([other, why]) => `${other} ${why}`).join('; ')}`);
  }
  const row = await ctx.db.transaction().execute(async (trx) => {
    const stored = await upsertSendingDomain(trx, {
      tenant_id: caller.tenantId,
      domain: domain.domain,
      selector: selector.selector,
      algorithm: key.algorithm,
      private_key_sealed: sealSecret(key.privateKeyPem),
      public_key_der: key.publicKeyDer,
      now: ctx.clock(),
    });
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'sending_domain.configured', entityType: 'tenant', entityId: caller.tenantId, data: { domain: domain.domain, selector: selector.selector, bits: key.bits } },
    ]);
    return stored;
  });
  return viewOf(row, await sendingAddressOf(ctx.db, caller.tenantId));
}

/** Mail from the domain goes unsigned again from the next send on. */
export async function removeSendingDomain(ctx: ServiceContext, caller: Caller, domainInput: string): Promise<SendingDomainView> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'remove sending domains');
  const domain = normaliseDomainName(domainInput);
  if (!domain.ok) throw notFound('sending domain', domainInput);
  const row = await ctx.db.transaction().execute(async (trx) => {
    const deleted = await deleteSendingDomain(trx, caller.tenantId, domain.domain);
    if (!deleted) throw notFound('sending domain', domain.domain);
    await insertAuditEvents(trx, caller.tenantId, [
      { actor: caller.sub, action: 'sending_domain.removed', entityType: 'tenant', entityId: caller.tenantId, data: { domain: domain.domain } },
    ]);
    return deleted;
  });
  return viewOf(row, await sendingAddressOf(ctx.db, caller.tenantId));
}

export async function listTenantSendingDomains(ctx: ServiceContext, caller: Caller): Promise<SendingDomainView[]> {
  requireScope(caller, 'followups:read');
  requireTenantWide(caller, 'list sending domains');
  const sendingAddress = await sendingAddressOf(ctx.db, caller.tenantId);
  return (await listSendingDomains(ctx.db, caller.tenantId)).map((row) => viewOf(row, sendingAddress));
}

async function sendingAddressOf(db: Kysely<Database>, tenantId: string): Promise<string> {
  return (await findTenantById(db, tenantId))?.sending_address ?? '';
}

function viewOf(row: SendingDomainRow, sendingAddress: string): SendingDomainView {
  const record = dkimDnsRecord(row.domain, row.selector, row.public_key_der);
  return {
    domain: row.domain,
    selector: row.selector,
    algorithm: row.algorithm,
    dnsRecordName: record.name,
    dnsRecordValue: record.value,
    coversSendingAddress: signingDomainsFor(sendingAddress).includes(row.domain),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface DkimKeys {
  /** The key that signs mail of this tenant from this address, if one of its domains covers it. */
  forSender(tenantId: string, fromAddress: string): Promise<DkimKey | undefined>;
}

/**
 * The senders' keys, opened once and kept for a short while by each worker, so a batch of a
 * thousand messages costs one lookup per sender, and a key configured or removed applies to the
 * next sends within `ttlMs`.
 */
export function createDkimKeys(db: Kysely<Database>, options: { ttlMs?: number; now?: () => number } = {}): DkimKeys {
  const ttlMs = options.ttlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { until: number; key: Promise<DkimKey | undefined> }>();
  async function lookup(tenantId: string, domains: string[]): Promise<DkimKey | undefined> {
    const rows = await findSendingDomains(db, tenantId, domains);
    // The most specific configured domain signs.
    const row = domains.map((domain) => rows.find((each) => each.domain === domain)).find((each) => each !== undefined);
    return row ? { domainName: row.domain, keySelector: row.selector, privateKey: openSecret(row.private_key_sealed) } : undefined;
  }
  return {
    forSender(tenantId, fromAddress) {
      const domains = signingDomainsFor(fromAddress);
      if (domains.length === 0) return Promise.resolve(undefined);
      const cacheKey = `${tenantId} ${domains[0]}`;
      const cached = cache.get(cacheKey);
      if (cached && cached.until > now()) return cached.key;
      const key = lookup(tenantId, domains);
      cache.set(cacheKey, { until: now() + ttlMs, key });
      // A failed lookup is not remembered: the next send asks again.
      key.catch(() => cache.delete(cacheKey));
      return key;
    },
  };
}
