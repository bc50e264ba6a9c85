import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

// Which candidate a row belongs to, for candidate tokens: every interview names its candidate,
// and plans, steps, messages and replies hang off an interview.

export type OwnedKind = 'interview' | 'plan' | 'step' | 'message';

/** The candidate the row belongs to, or undefined when there is no such row in the tenant. */
export async function findOwningCandidate(db: Kysely<Database>, tenantId: string, kind: OwnedKind, id: string): Promise<string | undefined> {
  let query;
  switch (kind) {
    case 'interview':
      query = sql<{ candidate_id: string }>`
        SELECT i.candidate_id FROM interviews AS i WHERE i.tenant_id = ${tenantId} AND i.id = ${id}`;
      break;
    case 'plan':
      query = sql<{ candidate_id: string }>`
        SELECT i.candidate_id FROM follow_up_plans AS p
        JOIN interviews AS i ON i.tenant_id = p.tenant_id AND i.id = p.interview_id
        WHERE p.tenant_id = ${tenantId} AND p.id = ${id}`;
      break;
    case 'step':
      query = sql<{ candidate_id: string }>`
        SELECT i.candidate_id FROM follow_up_steps AS s
        JOIN follow_up_plans AS p ON p.tenant_id = s.tenant_id AND p.id = s.plan_id
        JOIN interviews AS i ON i.tenant_id = p.tenant_id AND i.id = p.interview_id
        WHERE s.tenant_id = ${tenantId} AND s.id = ${id}`;
      break;
    case 'message':
      query = sql<{ candidate_id: string }>`
        SELECT i.candidate_id FROM messages AS m
        JOIN follow_up_plans AS p ON p.tenant_id = m.tenant_id AND p.id = m.plan_id
        JOIN interviews AS i ON i.tenant_id = p.tenant_id AND i.id = p.interview_id
        WHERE m.tenant_id = ${tenantId} AND m.id = ${id}`;
      break;
  }
  return (await query.execute(db)).rows[0]?.candidate_id;
}

/** Whether the entity (the candidate, or one of their interviews, plans, steps, messages, replies) is theirs. */
export async function candidateOwnsEntity(db: Kysely<Database>, tenantId: string, candidateId: string, entityId: string): Promise<boolean> {
  if (entityId === candidateId) return true;
  const result = await sql<{ owned: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM interviews AS i
      WHERE i.tenant_id = ${tenantId} AND i.candidate_id = ${candidateId} AND (
        i.id = ${entityId}
        OR EXISTS (SELECT 1 FROM replies AS r WHERE r.tenant_id = i.tenant_id AND r.interview_id = i.id AND r.id = ${entityId})
        OR EXISTS (
          SELECT 1 FROM follow_up_plans AS p
          WHERE p.tenant_id = i.tenant_id AND p.interview_id = i.id AND (
            p.id = ${entityId}
            OR EXISTS (SELECT 1 FROM follow_up_steps AS s WHERE s.tenant_id = p.tenant_id AND s.plan_id = p.id AND s.id = ${entityId})
            OR EXISTS (SELECT 1 FROM messages AS m WHERE m.tenant_id = p.tenant_id AND m.plan_id = p.id AND m.id = ${entityId})
          )
        )
      )
    ) AS owned`.execute(db);
  return result.rows[0]?.owned === true;
}

/** A subquery: the ids of the candidate's plans (for filtering steps and messages). */
export function plansOfCandidate(tenantId: string, candidateId: string) {
  return sql<string>`(
    SELECT p.id FROM follow_up_plans AS p
    JOIN interviews AS i ON i.tenant_id = p.tenant_id AND i.id = p.interview_id
    WHERE p.tenant_id = ${tenantId} AND i.candidate_id = ${candidateId})`;
}
