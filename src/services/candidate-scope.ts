import type { Kysely } from 'kysely';
import { findOwningCandidate, type OwnedKind } from '../db/candidate-scope.js';
import type { Database } from '../db/schema.js';
import type { Caller } from './context.js';
import { notFound } from './errors.js';

// Candidate tokens (API.md "Who may see what"): lists hold only the candidate's rows, and
// another candidate's id answers exactly like a missing one. Enforced here, in the services,
// so GraphQL and REST agree. Server tokens pass straight through, at no cost.

/** Throws NOT_FOUND (as for a missing id) when a candidate token asks for someone else's row. */
export async function requireOwnRow(db: Kysely<Database>, caller: Caller, kind: OwnedKind, id: string, what: string): Promise<void> {
  if (caller.candidateId === undefined) return;
  if ((await findOwningCandidate(db, caller.tenantId, kind, id)) !== caller.candidateId) throw notFound(what, id);
}

/** For a list's candidate filter: a candidate token sees only its own; another filter finds nothing. */
export function candidateFilterFor(caller: Caller, asked: string | null | undefined): { candidateId: string | undefined; empty: boolean } {
  if (caller.candidateId === undefined) return { candidateId: asked ?? undefined, empty: false };
  return { candidateId: caller.candidateId, empty: asked != null && asked !== caller.candidateId };
}
