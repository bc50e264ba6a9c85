import type { Kysely } from 'kysely';
import { deleteMessageSentences, findRecentSentences, findTenantSentencesSince, insertMessageSentences, type NewMessageSentence } from '../db/message-sentences.js';
import type { Database } from '../db/schema.js';
import { addToIndex, letterHashes, type LetterIdentity, type SentLetter, type SentLetterIndex } from '../domain/sentence-overlap.js';
import type { PlanContext } from './plan-context.js';

// L12 (not canned): the letters other candidates of the tenant sent to the same companies and
// addresses in the last 90 days, read once for a whole batch of steps (one query), and the
// sentence hashes of the letters this batch writes, stored in the same transaction.

export const CANNED_WINDOW_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CannedLetters {
  index: SentLetterIndex;
  /** Letters written in this transaction, stored by `flushCannedLetters`. */
  pending: NewMessageSentence[];
}

/** Reads the recent letters the given plans' steps could be compared with, and hands the index to each context. */
export async function attachCannedLetters(db: Kysely<Database>, tenantId: string, contexts: Iterable<PlanContext>, now: Date): Promise<CannedLetters> {
  const list = [...contexts];
  const companyIds = [...new Set(list.map((context) => context.facts.company.id).filter((id): id is string => id !== undefined))];
  const addresses = [
    ...new Set(list.flatMap((context) => context.steps.map((step) => step.recipient_email?.toLowerCase())).filter((a): a is string => Boolean(a))),
  ];
  // A candidate's own letters are never compared with theirs: when the batch writes for one
  // candidate only (a panel, or a partner's bulk load), theirs need not be read at all.
  const candidates = new Set(list.map((context) => context.facts.candidate.id));
  const exceptCandidateId = candidates.size === 1 ? [...candidates][0] : undefined;
  const since = new Date(now.getTime() - CANNED_WINDOW_DAYS * DAY_MS);
  const rows = await findRecentSentences(db, tenantId, { companyIds, addresses, since, exceptCandidateId });
  const index: SentLetterIndex = new Map();
  const letters = new Map<string, SentLetter>();
  for (const row of rows) {
    let letter = letters.get(row.message_id);
    if (!letter) {
      letter = { messageId: row.message_id, candidateId: row.candidate_id, companyId: row.company_id, address: row.recipient_address, sentenceCount: row.sentence_count };
      letters.set(row.message_id, letter);
    }
    addToIndex(index, [row.hash], letter);
  }
  const canned: CannedLetters = { index, pending: [] };
  for (const context of list) context.canned = canned;
  return canned;
}

/**
 * For one tenant's batches in a row (an advance of a sandbox's test clock): the tenant's recent
 * letters are read once, and the index grows with the letters the batches write (recordLetter),
 * instead of a read per batch. Holding more companies and people than a batch writes to changes
 * nothing (L12 compares only with the same company or address). It is read again once the
 * oldest letter it holds (or may hold) has left the window, so no letter older than it ever counts.
 */
export function sharedCannedLetters(): typeof attachCannedLetters {
  let shared: { canned: CannedLetters; oldest: number } | undefined;
  return async (db, tenantId, contexts, now) => {
    const since = new Date(now.getTime() - CANNED_WINDOW_DAYS * DAY_MS);
    if (!shared || shared.oldest < since.getTime()) {
      const rows = await findTenantSentencesSince(db, tenantId, since);
      // Letters the batches add later are written at `now` or after: the oldest is the older of the two.
      shared = { canned: { index: indexOf(rows), pending: [] }, oldest: Math.min(rows[0]?.created_at.getTime() ?? Infinity, now.getTime()) };
    }
    for (const context of contexts) context.canned = shared.canned;
    return shared.canned;
  };
}

function indexOf(rows: Awaited<ReturnType<typeof findRecentSentences>>): SentLetterIndex {
  const index: SentLetterIndex = new Map();
  const letters = new Map<string, SentLetter>();
  for (const row of rows) {
    let letter = letters.get(row.message_id);
    if (!letter) {
      letter = { messageId: row.message_id, candidateId: row.candidate_id, companyId: row.company_id, address: row.recipient_address, sentenceCount: row.sentence_count };
      letters.set(row.message_id, letter);
    }
    addToIndex(index, [row.hash], letter);
  }
  return index;
}

/** Records a letter about to leave: later letters of other candidates are compared with it. */
export function recordLetter(canned: CannedLetters, tenantId: string, messageId: string, self: LetterIdentity, body: string, now: Date): void {
  const hashes = letterHashes(body);
  if (hashes.length === 0) return;
  addToIndex(canned.index, hashes, { messageId, candidateId: self.candidateId, companyId: self.companyId, address: self.address, sentenceCount: hashes.length });
  for (const hash of hashes) {
    canned.pending.push({
      tenant_id: tenantId,
      message_id: messageId,
      hash,
      candidate_id: self.candidateId,
      company_id: self.companyId,
      recipient_address: self.address,
      sentence_count: hashes.length,
      created_at: now,
    });
  }
}

export async function flushCannedLetters(db: Kysely<Database>, canned: CannedLetters | undefined): Promise<void> {
  if (!canned || canned.pending.length === 0) return;
  const rows = canned.pending.splice(0);
  await insertMessageSentences(db, rows);
}

/** A letter edited at approval replaces what was recorded; a discarded one is forgotten. */
export async function forgetLetter(db: Kysely<Database>, tenantId: string, messageId: string): Promise<void> {
  await deleteMessageSentences(db, tenantId, messageId);
}

/** Who a step's letter is from and to, for L12. */
export function letterIdentity(context: PlanContext, recipientEmail: string | null): LetterIdentity | null {
  const companyId = context.facts.company.id;
  if (companyId === undefined) return null;
  return { candidateId: context.facts.candidate.id, companyId, address: recipientEmail?.toLowerCase() ?? null };
}
