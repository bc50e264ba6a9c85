import { insertAuditEvents } from '../db/audit-events.js';
import { findCandidateForUpdate, findCandidatesByIds, insertCandidate, listCandidates, updateCandidateRow } from '../db/candidates.js';
import { isId, newId } from '../db/ids.js';
import type { CandidateColumn, CandidateRow, CandidateUpdate } from '../db/schema.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { notFound } from './errors.js';
import { createCandidateSchema, parseInput, updateCandidateSchema } from './inputs.js';
import { type Page, type PageRequest, pageWindow, toPage } from './pagination.js';
import { type ColumnsOf, columnsFor, type ViewFields } from './projection.js';

export interface CandidateView {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  timezone: string | null;
  consent: boolean;
  consentAt: Date | null;
  linkedinUrl: string | null;
  signature: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const CANDIDATE_COLUMNS: ColumnsOf<CandidateView, CandidateColumn> = {
  id: ['id'],
  name: ['name'],
  email: ['email'],
  phone: ['phone'],
  timezone: ['timezone'],
  consent: ['consent'],
  consentAt: ['consent_at'],
  linkedinUrl: ['linkedin_url'],
  signature: ['signature'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
};

export async function createCandidate(ctx: ServiceContext, caller: Caller, rawInput: unknown): Promise<CandidateView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'create candidates');
  const input = parseInput(createCandidateSchema, rawInput, 'input');
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertCandidate(trx, {
      tenant_id: caller.tenantId,
      id: newId(),
      name: input.name,
      email: input.email,
      phone: input.phone ?? null,
      timezone: input.timezone ?? null,
      consent: input.consent,
      consent_at: input.consent ? now : null,
      linkedin_url: input.linkedinUrl ?? null,
      signature: input.signature ?? null,
      created_at: now,
      updated_at: now,
    });
    await insertAuditEvents(trx, caller.tenantId, [
      {
        actor: caller.sub,
        action: 'candidate.created',
        entityType: 'candidate',
        entityId: row.id,
        data: { created: auditSnapshot(row) },
      },
    ]);
    return toCandidateView(row);
  });
}

export async function updateCandidate(ctx: ServiceContext, caller: Caller, id: string, rawInput: unknown): Promise<CandidateView> {
  requireScope(caller, 'followups:write');
  requireTenantWide(caller, 'change candidates');
  const input = parseInput(updateCandidateSchema, rawInput, 'input');
  if (!isId(id)) throw notFound('candidate', id);
  const now = ctx.clock();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await findCandidateForUpdate(trx, caller.tenantId, id);
    if (!current) throw notFound('candidate', id);
    const changes: CandidateUpdate = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.email !== undefined) changes.email = input.email;
    if (input.phone !== undefined) changes.phone = input.phone;
    if (input.timezone !== undefined) changes.timezone = input.timezone;
    if (input.linkedinUrl !== undefined) changes.linkedin_url = input.linkedinUrl;
    if (input.signature !== undefined) changes.signature = input.signature;
    if (input.consent !== undefined && input.consent !== current.consent) {
      changes.consent = input.consent;
      changes.consent_at = input.consent ? now : null;
    }
    if (Object.keys(changes).length === 0) return toCandidateView(current);
    const before = auditSnapshot(current);
    const row = (await updateCandidateRow(trx, caller.tenantId, id, { ...changes, updated_at: now }))!;
    const after = auditSnapshot(row);
    const diff = Object.fromEntries(
      Object.keys(after)
        .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
        .map((key) => [key, { from: before[key], to: after[key] }]),
    );
    if (Object.keys(diff).length > 0) {
      await insertAuditEvents(trx, caller.tenantId, [
        { actor: caller.sub, action: 'candidate.updated', entityType: 'candidate', entityId: id, data: { changes: diff } },
      ]);
    }
    return toCandidateView(row);
  });
}

export async function getCandidate(ctx: ServiceContext, caller: Caller, id: string): Promise<CandidateView> {
  requireScope(caller, 'followups:read');
  // A candidate token sees its own candidate only; another id answers as a missing one.
  const visible = isId(id) && (caller.candidateId === undefined || caller.candidateId === id);
  const [row] = visible ? await findCandidatesByIds(ctx.db, caller.tenantId, [id]) : [];
  if (!row) throw notFound('candidate', id);
  return toCandidateView(row);
}

/** The loader's batch: candidates for many ids in one query, in the order asked (null where missing). */
export async function getCandidatesByIds(ctx: ServiceContext, caller: Caller, ids: readonly string[], fields?: ViewFields): Promise<Array<CandidateView | null>> {
  const rows = await findCandidatesByIds(ctx.db, caller.tenantId, ids.filter(isId), columnsFor(CANDIDATE_COLUMNS, fields, ['id']));
  const byId = new Map(rows.map((row) => [row.id, toCandidateView(row)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function listCandidatesPage(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: { email?: string | null; consent?: boolean | null } = {},
  fields?: ViewFields,
): Promise<Page<CandidateView>> {
  requireScope(caller, 'followups:read');
  const window = pageWindow(request);
  const rows = await listCandidates(ctx.db, caller.tenantId, window, {
    email: filter.email ?? undefined,
    consent: filter.consent ?? undefined,
    id: caller.candidateId,
  }, columnsFor(CANDIDATE_COLUMNS, fields, ['id']));
  return toPage(rows, window.size, toCandidateView);
}

/** The fields an audit event records, before and after a change. */
function auditSnapshot(row: CandidateRow): Record<string, unknown> {
  return {
    name: row.name,
    email: row.email,
    phone: row.phone,
    timezone: row.timezone,
    consent: row.consent,
    linkedinUrl: row.linkedin_url,
    signature: row.signature,
  };
}

function toCandidateView(row: CandidateRow): CandidateView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    timezone: row.timezone,
    consent: row.consent,
    consentAt: row.consent_at,
    linkedinUrl: row.linkedin_url,
    signature: row.signature,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
