import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { insertAuditEvents, type NewAuditEvent } from '../db/audit-events.js';
import { findPlansByIds, updateStep } from '../db/follow-up-plans.js';
import { newId } from '../db/ids.js';
import {
  findMessageById,
  findMessagesByHeaders,
  findOpenPlansWritingTo,
  findPendingInboundIds,
  insertInboundMessage,
  insertReplyForward,
  findReceivedInbound,
  lockPendingInbound,
  updateInboundMessage,
} from '../db/inbound-messages.js';
import { updateMessage } from '../db/messages.js';
import type { Database, InboundMessageRow, MessageRow } from '../db/schema.js';
import { insertSuppression } from '../db/suppressions.js';
import { findTenantById } from '../db/tenants.js';
import { instantAtLocalTime, localDateOf, nextBusinessMoment } from '../domain/calendar.js';
import { classifyInbound, type Classification, parseReturnDate, stripQuoted } from '../domain/inbound-mail.js';
import type { SpellChecker } from '../domain/lint.js';
import { type InboundAddressing, messageIdOfToken, parseInboundAddress } from '../inbound/reply-token.js';
import { type ParsedInbound, parseInbound } from '../inbound/parse.js';
import { errorForLog } from '../logger.js';
import { ALL_SCOPES, type Caller } from './context.js';
import { recordReplyIn, type ReplyView } from './follow-up-events.js';
import { PENDING_STATUSES, settlePlans, type StepStatus } from './follow-up-plans.js';
import { loadPlanContext } from './plan-context.js';
import { clockForTenant } from './tenant-clock.js';
import { enqueueWebhookEvents, followupFailedEvent, type WebhookEvent } from './webhook-events.js';
import { signalWorkDue } from '../db/work-signals.js';

// Mail that comes back, from the SMTP listener or a provider's webhook: stored raw first (so an
// acknowledged message is never lost), then parsed, matched to the message it answers, classified
// and acted on, one transaction per message. Mail that matches nothing is kept and changes nothing.

export const INBOUND_ACTOR = 'inbound-mail';
/** Steps that ask the employer for news: what an out-of-office answer defers. */
const NUDGE_KINDS = new Set(['check_in', 'final_check_in']);
/** Out-of-office return dates further ahead than this are not acted on. */
const RETURN_WITHIN_DAYS = 30;

export interface InboundDependencies {
  db: Kysely<Database>;
  clock: () => Date;
  spell: SpellChecker;
  addressing: InboundAddressing;
  log: Logger;
}

export interface StoreRequest {
  source: string;
  providerMessageId?: string | null;
  envelopeFrom?: string | null;
  envelopeTo?: string[];
  raw: Buffer;
}

/** Stores a raw message (the acknowledgement waits for this); `duplicate` when the provider sent it before. */
export async function storeInboundMessage(db: Kysely<Database>, request: StoreRequest, now: Date): Promise<{ id: string | null; duplicate: boolean }> {
  const inserted = await insertInboundMessage(db, {
    id: newId(),
    source: request.source,
    provider_message_id: request.providerMessageId?.slice(0, 500) || null,
    envelope_from: request.envelopeFrom?.slice(0, 500) || null,
    envelope_to: (request.envelopeTo ?? []).slice(0, 100).map((address) => address.slice(0, 500)),
    raw: request.raw,
    received_at: now,
  });
  return inserted ? { id: inserted.id, duplicate: false } : { id: null, duplicate: true };
}

export interface ProcessResult {
  processed: number;
  statuses: Record<string, number>;
}

/** Handles every stored message not yet handled (after a restart too), oldest first. */
export async function processPendingInbound(deps: InboundDependencies, batchSize = 100, signal?: AbortSignal, lanes = 4): Promise<ProcessResult> {
  const result: ProcessResult = { processed: 0, statuses: {} };
  for (;;) {
    const ids = await findPendingInboundIds(deps.db, batchSize);
    // A few messages at once, each in its own transaction: one parses while another writes.
    let next = 0;
    let handled = 0;
    const lane = async () => {
      while (next < ids.length && !signal?.aborted) {
        const status = await processInboundMessage(deps, ids[next++]!);
        if (status === null) continue;
        handled += 1;
        result.processed += 1;
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, ids.length) }, lane));
    // A batch that another process holds entirely is left to it.
    if (signal?.aborted || ids.length < batchSize || handled === 0) return result;
  }
}

interface Match {
  by: 'token' | 'header' | 'sender';
  tenantId: string;
  planId: string;
  interviewId: string;
  /** Our message it answers, when known (token or header). */
  message: MessageRow | null;
}

/** Parses, matches, classifies and acts on one stored message. Returns its new status, or null if it was not pending. */
export async function processInboundMessage(deps: InboundDependencies, id: string): Promise<string | null> {
  const { db, log } = deps;
  const row = await findReceivedInbound(db, id);
  if (!row) return null;
  // Parsing is CPU work with a deadline, done before any lock is taken.
  const parsed = await parseInbound(row.raw);
  try {
    return await db.transaction().execute(async (trx) => {
      const locked = await lockPendingInbound(trx, id);
      if (!locked) return null;
      const now = deps.clock();
      if (!parsed.ok) {
        await updateInboundMessage(trx, id, { status: 'unparsable', detail: parsed.reason, processed_at: now });
        return 'unparsable';
      }
      const mail = parsed.parsed;
      const classification = classifyInbound(mail.mail);
      const basics = {
        classification: classification.kind === 'bounce' ? (classification.permanent ? 'bounce' : 'delay') : classification.kind,
        from_address: mail.mail.fromAddress?.slice(0, 500) ?? null,
        subject: mail.mail.subject.slice(0, 500),
        message_id_header: mail.messageIdHeader?.slice(0, 500) ?? null,
        processed_at: now,
      };
      const match = await matchInbound(trx, deps.addressing, locked, mail, classification);
      if (!match) {
        await updateInboundMessage(trx, id, { ...basics, status: 'unmatched', detail: classification.evidence });
        return 'unmatched';
      }
      // Everything the reply changes happens at its tenant's time: a sandbox's test clock.
      const tenantNow = (await clockForTenant(trx, match.tenantId, deps.clock))();
      const reply = await applyInbound(trx, deps, locked, mail, classification, match, tenantNow);
      await updateInboundMessage(trx, id, {
        ...basics,
        status: 'applied',
        tenant_id: match.tenantId,
        matched_by: match.by,
        message_id: match.message?.id ?? null,
        interview_id: match.interviewId,
        reply_id: reply?.id ?? null,
        detail: classification.evidence,
      });
      return 'applied';
    });
  } catch (error) {
    // Never lost and never in a loop: the message stays stored, marked failed, for a person.
    log.error({ inboundMessageId: id, ...errorForLog(error) }, 'inbound message could not be applied');
    await updateInboundMessage(db, id, { status: 'failed', detail: 'could not be applied; see the service log', processed_at: deps.clock(), attempts: row.attempts + 1 });
    return 'failed';
  }
}

/**
 * The message a reply answers: the token in a recipient address first (reply+ or bounce+), then
 * In-Reply-To / References (and a bounce's copy of our headers) against our Message-IDs, then the
 * sender as the recipient of exactly one open plan. Never the subject.
 */
async function matchInbound(
  trx: Kysely<Database>,
  addressing: InboundAddressing,
  row: InboundMessageRow,
  mail: ParsedInbound,
  classification: Classification,
): Promise<Match | null> {
  const addresses = [...row.envelope_to, ...mail.recipients];
  for (const address of addresses) {
    const parsedAddress = parseInboundAddress(address, addressing.domain);
    const messageId = parsedAddress && messageIdOfToken(addressing.keys, parsedAddress.token);
    const message = messageId ? await findMessageById(trx, messageId) : undefined;
    if (message) return withPlan(trx, 'token', message);
  }
  const headers = [...mail.inReplyTo, ...mail.references, ...mail.originalMessageIds];
  if (headers.length > 0) {
    const found = await findMessagesByHeaders(trx, headers);
    const message = headers.map((header) => found.find((candidate) => candidate.message_id_header === header)).find(Boolean);
    if (message) return withPlan(trx, 'header', message);
  }
  // A bounce comes from a mail system: the person is the recipient it reports, not its sender.
  const person = classification.kind === 'bounce' ? classification.recipient : mail.mail.fromAddress;
  if (person) {
    const plans = await findOpenPlansWritingTo(trx, person, 2);
    if (plans.length === 1) return { by: 'sender', tenantId: plans[0]!.tenant_id, planId: plans[0]!.plan_id, interviewId: plans[0]!.interview_id, message: null };
  }
  return null;
}

async function withPlan(trx: Kysely<Database>, by: Match['by'], message: MessageRow): Promise<Match | null> {
  const [plan] = await findPlansByIds(trx, message.tenant_id, [message.plan_id]);
  return plan ? { by, tenantId: message.tenant_id, planId: plan.id, interviewId: plan.interview_id, message } : null;
}

function systemCaller(tenantId: string): Caller {
  return { tenantId, sub: INBOUND_ACTOR, scopes: new Set(ALL_SCOPES) };
}

async function applyInbound(
  trx: Kysely<Database>,
  deps: InboundDependencies,
  row: InboundMessageRow,
  mail: ParsedInbound,
  classification: Classification,
  match: Match,
  now: Date,
): Promise<ReplyView | null> {
  const caller = systemCaller(match.tenantId);
  const fromEmail = mail.mail.fromAddress ?? row.envelope_from ?? `mailer-daemon@${deps.addressing.domain}`;
  const ownWords = stripQuoted(mail.mail.text).slice(0, 20_000);
  const audit: NewAuditEvent[] = [];
  const events: WebhookEvent[] = [];
  const inbound = { inboundMessageId: row.id };

  if (classification.kind === 'bounce') {
    const reply = await recordReplyIn(trx, deps.spell, caller, { interviewId: match.interviewId, fromEmail, fromName: mail.fromName }, now, {
      ...inbound,
      kind: 'bounce',
      text: `${classification.status}${classification.diagnostic ? ` ${classification.diagnostic}` : ''}`.slice(0, 2000),
    });
    if (classification.permanent) await applyHardBounce(trx, match, classification, audit, events, now);
    else audit.push({ actor: INBOUND_ACTOR, action: 'message.delayed', entityType: 'message', entityId: match.message?.id ?? row.id, data: { status: classification.status } });
    await insertAuditEvents(trx, match.tenantId, audit);
    await enqueueWebhookEvents(trx, match.tenantId, events, now);
    return reply;
  }

  if (classification.kind === 'auto_reply') {
    const reply = await recordReplyIn(trx, deps.spell, caller, { interviewId: match.interviewId, fromEmail, fromName: mail.fromName }, now, {
      ...inbound,
      kind: 'auto_reply',
      text: ownWords,
    });
    const deferral = classification.outOfOffice || /out of|abwesen|absen|fuera|ausente|vacation|urlaub|congé|vacaciones/i.test(mail.mail.subject + ownWords.slice(0, 500))
      ? await deferForReturn(trx, match, fromEmail, mail.mail.text, audit, now)
      : null;
    events.push({
      type: 'reply.auto',
      data: {
        replyId: reply.id,
        kind: 'auto_reply',
        interviewId: match.interviewId,
        from: fromEmail,
        outOfOffice: classification.outOfOffice,
        returnDate: deferral?.returnDate ?? null,
        deferredStepId: deferral?.stepId ?? null,
        deferredUntil: deferral?.until.toISOString() ?? null,
      },
    });
    await insertAuditEvents(trx, match.tenantId, audit);
    await enqueueWebhookEvents(trx, match.tenantId, events, now);
    return reply;
  }

  // A person wrote: the employer-side rule decides whether the nudges stop (S1).
  const reply = await recordReplyIn(trx, deps.spell, caller, { interviewId: match.interviewId, fromEmail, fromName: mail.fromName }, now, {
    ...inbound,
    kind: 'human',
    text: ownWords,
  });
  if (classification.kind === 'unsubscribe') {
    await insertSuppression(trx, { tenant_id: match.tenantId, address: fromEmail, reason: 'opt_out', detail: 'asked to stop in a reply' });
    audit.push({ actor: INBOUND_ACTOR, action: 'suppression.added', entityType: 'reply', entityId: reply.id, data: { reason: 'opt_out', source: 'reply' } });
  }
  events.push({
    type: 'reply.received',
    data: {
      replyId: reply.id,
      kind: 'human',
      interviewId: match.interviewId,
      from: fromEmail,
      fromName: mail.fromName,
      text: ownWords,
      fromEmployer: reply.fromEmployer,
      askedToStop: classification.kind === 'unsubscribe',
      cancelledStepIds: reply.cancelledStepIds,
    },
  });
  await forwardToCandidate(trx, match, reply, mail, fromEmail, audit, now);
  await insertAuditEvents(trx, match.tenantId, audit);
  await enqueueWebhookEvents(trx, match.tenantId, events, now);
  return reply;
}

/** S6 from a bounce: the message failed after all, and the address takes no more mail. */
async function applyHardBounce(
  trx: Kysely<Database>,
  match: Match,
  bounce: Extract<Classification, { kind: 'bounce' }>,
  audit: NewAuditEvent[],
  events: WebhookEvent[],
  now: Date,
): Promise<void> {
  const message = match.message;
  const address = bounce.recipient ?? message?.to_address ?? null;
  if (address) {
    await insertSuppression(trx, { tenant_id: match.tenantId, address, reason: 'hard_bounce', detail: bounce.status });
    audit.push({ actor: INBOUND_ACTOR, action: 'suppression.added', entityType: 'message', entityId: message?.id ?? match.planId, data: { reason: 'hard_bounce', status: bounce.status } });
  }
  if (!message || message.status === 'dead') return;
  const lastError = `bounced: ${bounce.status}${bounce.diagnostic ? ` ${bounce.diagnostic}` : ''}`.slice(0, 1000);
  await updateMessage(trx, match.tenantId, message.id, { status: 'dead', last_error: lastError }, now);
  await updateStep(trx, match.tenantId, message.step_id, { status: 'failed', reason: 'bounced' }, now);
  audit.push(
    { actor: INBOUND_ACTOR, action: 'message.bounced', entityType: 'message', entityId: message.id, data: { status: bounce.status } },
    { actor: INBOUND_ACTOR, action: 'step.failed', entityType: 'follow_up_step', entityId: message.step_id, data: { messageId: message.id, reason: 'bounced' } },
  );
  events.push(followupFailedEvent(message, match.interviewId, { failureClass: 'permanent', code: 'BOUNCED', status: bounce.status, hardBounce: true }));
  const [plan] = await findPlansByIds(trx, match.tenantId, [match.planId]);
  if (plan) {
    const settled = await settlePlans(trx, match.tenantId, [plan], INBOUND_ACTOR, now);
    audit.push(...settled.audit);
    events.push(...settled.events);
  }
}

/**
 * An out-of-office answer with a return date within 30 days: that person's next nudge waits for
 * the first business moment of the day they are back (in their zone), with the reason on the step.
 */
async function deferForReturn(
  trx: Kysely<Database>,
  match: Match,
  fromEmail: string,
  text: string,
  audit: NewAuditEvent[],
  now: Date,
): Promise<{ stepId: string | null; returnDate: string; until: Date } | null> {
  const context = await loadPlanContext(trx, match.tenantId, match.planId);
  if (!context) return null;
  const person = (match.message?.to_address ?? fromEmail).toLowerCase();
  const nudges = context.steps
    .filter((step) => NUDGE_KINDS.has(step.kind) && step.status === 'scheduled' && step.recipient_email?.toLowerCase() === person)
    .sort((a, b) => a.due_at.getTime() - b.due_at.getTime());
  const zone = nudges[0]?.recipient_timezone ?? context.facts.company.timezone ?? context.facts.timezone;
  const back = parseReturnDate(text, localDateOf(now, zone), RETURN_WITHIN_DAYS);
  if (!back) return null;
  const until = nextBusinessMoment(instantAtLocalTime(back.date, '00:00', zone), zone, context.policy);
  const next = nudges.find((step) => PENDING_STATUSES.includes(step.status as StepStatus));
  if (!next || next.due_at.getTime() >= until.getTime()) return { stepId: null, returnDate: back.date, until };
  const decisions = [
    ...next.decisions,
    { rule: 'S1', outcome: 'adjust', detail: `an out-of-office answer says they are back on ${back.date}: this waits until the first business moment after it` },
  ];
  await updateStep(trx, match.tenantId, next.id, { due_at: until, decisions: JSON.stringify(decisions) }, now);
  audit.push({
    actor: INBOUND_ACTOR,
    action: 'step.deferred',
    entityType: 'follow_up_step',
    entityId: next.id,
    data: { from: next.due_at.toISOString(), to: until.toISOString(), reason: 'out_of_office' },
  });
  return { stepId: next.id, returnDate: back.date, until };
}

/**
 * The candidate gets every reply a person wrote (their Reply-To now points here): from the
 * tenant's own sending address (DMARC-safe; never the writer's address in From), with Reply-To
 * the writer, so answering goes straight to them.
 */
async function forwardToCandidate(
  trx: Kysely<Database>,
  match: Match,
  reply: ReplyView,
  mail: ParsedInbound,
  fromEmail: string,
  audit: NewAuditEvent[],
  now: Date,
): Promise<void> {
  const [tenant, context] = await Promise.all([findTenantById(trx, match.tenantId), loadPlanContext(trx, match.tenantId, match.planId)]);
  if (!tenant || !context) return;
  const candidate = context.facts.candidate;
  const writer = mail.fromName ? `${mail.fromName} (${fromEmail})` : fromEmail;
  const subject = mail.mail.subject.trim() || `A reply about ${context.facts.positionTitle}`;
  const id = newId();
  const domain = tenant.sending_address.slice(tenant.sending_address.lastIndexOf('@') + 1);
  const body = [
    `${writer} answered your message about the ${context.facts.positionTitle} role at ${context.facts.company.name}.`,
    'Reply to this email to write back to them directly.',
    '',
    '----------',
    '',
    mail.mail.text.trim().slice(0, 100_000),
  ].join('\n');
  await insertReplyForward(trx, {
    tenant_id: match.tenantId,
    id,
    reply_id: reply.id,
    from_name: `${mail.fromName ?? fromEmail} via ${tenant.name}`.slice(0, 200),
    from_address: tenant.sending_address,
    reply_to_name: (mail.fromName ?? '').slice(0, 200),
    reply_to_address: fromEmail,
    to_name: candidate.name,
    to_address: candidate.email,
    subject: subject.slice(0, 300),
    body,
    message_id_header: `<${id}@${domain}>`,
    in_reply_to: null,
    next_attempt_at: now,
  });
  // Forwarded at once by a worker's replies lane, not at its next tick.
  await signalWorkDue(trx, 'replies');
  audit.push({ actor: INBOUND_ACTOR, action: 'reply.forwarded', entityType: 'reply', entityId: reply.id, data: { forwardId: id } });
}

/**
 * A recipient marked our message as spam (a provider's complaint event): never write to them
 * again (S6). The tenant comes from our Message-ID, or from the one open plan writing to them.
 */
export async function recordComplaint(
  db: Kysely<Database>,
  event: { messageIdHeader: string | null; recipient: string; source: string },
  now: Date,
): Promise<{ tenantId: string | null }> {
  return db.transaction().execute(async (trx) => {
    const [message] = event.messageIdHeader ? await findMessagesByHeaders(trx, [event.messageIdHeader]) : [];
    const tenantId = message?.tenant_id ?? (await (async () => {
      const plans = await findOpenPlansWritingTo(trx, event.recipient, 2);
      return plans.length === 1 ? plans[0]!.tenant_id : null;
    })());
    if (!tenantId || !event.recipient.includes('@')) return { tenantId: null };
    await insertSuppression(trx, { tenant_id: tenantId, address: event.recipient, reason: 'opt_out', detail: `complaint reported by ${event.source}` });
    await insertAuditEvents(trx, tenantId, [
      { actor: INBOUND_ACTOR, action: 'suppression.added', entityType: 'message', entityId: message?.id ?? tenantId, data: { reason: 'opt_out', source: `${event.source} complaint` } },
    ]);
    return { tenantId };
  });
}
