import { listInboundMessages } from '../db/inbound-messages.js';
import { isId } from '../db/ids.js';
import { findRepliesByInterviewIds } from '../db/replies.js';
import type { ReplyRow } from '../db/schema.js';
import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { ServiceError } from './errors.js';
import type { ReplyView } from './follow-up-events.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type PageRequest } from './pagination.js';

// Reading what came back: the tenant's inbound messages and an interview's replies.

export interface InboundMessageView {
  id: string;
  source: string;
  status: string;
  classification: string | null;
  detail: string | null;
  matchedBy: string | null;
  fromAddress: string | null;
  subject: string | null;
  size: number;
  interviewId: string | null;
  messageId: string | null;
  replyId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
}

const STATUSES = new Set(['received', 'applied', 'unmatched', 'unparsable', 'failed']);

function cursorOf(row: { received_at: Date; id: string }): string {
  return Buffer.from(`${row.received_at.toISOString()}|${row.id}`).toString('base64url');
}

function parseCursor(cursor: string): { receivedAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const receivedAt = new Date(at ?? '');
  if (!id || !isId(id) || Number.isNaN(receivedAt.getTime())) throw new ServiceError('BAD_USER_INPUT', 'after is not a cursor from this list', 'after');
  return { receivedAt, id };
}

export async function listInboundMessagesPage(
  ctx: ServiceContext,
  caller: Caller,
  request: PageRequest,
  filter: { status?: readonly string[] | null },
): Promise<Page<InboundMessageView>> {
  requireScope(caller, 'followups:read');
  // Mail that matched nothing may concern anyone in the tenant: not for a candidate's token.
  requireTenantWide(caller, 'list inbound mail');
  const size = request.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) throw new ServiceError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
  const status = filter.status?.map((value) => value.toLowerCase()).filter((value) => STATUSES.has(value));
  const rows = await listInboundMessages(ctx.db, caller.tenantId, { limit: size + 1, before: request.after ? parseCursor(request.after) : undefined, status });
  const kept = rows.slice(0, size);
  const cursors = kept.map(cursorOf);
  return {
    items: kept.map((row) => ({
      id: row.id,
      source: row.source,
      status: row.status,
      classification: row.classification,
      detail: row.detail,
      matchedBy: row.matched_by,
      fromAddress: row.from_address,
      subject: row.subject,
      size: row.size,
      interviewId: row.interview_id,
      messageId: row.message_id,
      replyId: row.reply_id,
      receivedAt: row.received_at,
      processedAt: row.processed_at,
    })),
    cursors,
    hasNextPage: rows.length > size,
    endCursor: cursors.at(-1) ?? null,
  };
}

export function toReplyView(row: ReplyRow): ReplyView {
  return {
    id: row.id,
    interviewId: row.interview_id,
    fromEmail: row.from_email,
    fromName: row.from_name,
    receivedAt: row.received_at,
    raisesConcerns: row.raises_concerns,
    fromEmployer: row.from_employer ?? false,
    concerns: row.concerns,
    kind: row.kind as ReplyView['kind'],
    text: row.text,
    cancelledStepIds: [],
    respondToConcernsStepId: null,
  };
}

/** The interview's replies (the interview itself was already found for this caller). */
export async function listRepliesOfInterview(ctx: ServiceContext, caller: Caller, interviewId: string): Promise<ReplyView[]> {
  requireScope(caller, 'followups:read');
  return (await findRepliesByInterviewIds(ctx.db, caller.tenantId, [interviewId])).map(toReplyView);
}
