import type { FollowUpStepRow, MessageRow, NewMessage } from '../db/schema.js';
import { newId } from '../db/ids.js';
import { stepZone } from '../domain/evaluate.js';
import { hasLintErrors, isLetterChannel, lintMessage, type SpellChecker } from '../domain/lint.js';
import { findCannedMatch, letterHashes, type LetterIdentity, sharedSentenceRatio } from '../domain/sentence-overlap.js';
import { messageContext, renderMessage, TEMPLATE_KEY_BY_KIND, TemplateRenderError } from '../domain/templates.js';
import type { Channel, LintFinding, RenderedMessage, StepKind } from '../domain/types.js';
import type { PlanContext } from './plan-context.js';
import { stepFactsOf } from './plan-context.js';
import { letterIdentity, recordLetter } from './canned-letters.js';

// Writes a step's message: the tenant's template or ours, threaded to what this recipient got
// before, linted. The result is a message row ready to insert; nothing is stored here.

export interface ComposedMessage {
  row: NewMessage;
  findings: LintFinding[];
  hasErrors: boolean;
}

/** Kinds that write again to someone already written to, and so continue that conversation. */
const THREADED_KINDS: ReadonlySet<StepKind> = new Set<StepKind>(['check_in', 'final_check_in', 'keep_in_touch', 'respond_to_concerns']);

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'afterview.localhost';
}

/** How many wordings the composer tries before L12 holds a letter for a person. */
export const MAX_WORDING_ATTEMPTS = 8;

function render(context: PlanContext, step: FollowUpStepRow, channel: Channel, attempt = 0): RenderedMessage {
  const facts = stepFactsOf(step);
  const zone = stepZone(facts, context.facts);
  const messageFacts = messageContext({
    kind: facts.kind,
    recipient: facts.recipient,
    interview: context.facts,
    zone,
    channel,
    panelConsistency: context.policy.panelConsistency,
    writing: context.policy.writing,
    attempt,
  });
  return renderMessage(facts.kind, messageFacts, context.policy.templates[TEMPLATE_KEY_BY_KIND[facts.kind]]);
}

/** The latest email that went to this step's recipient in this plan: what a follow-up replies to. */
function previousEmailTo(context: PlanContext, step: FollowUpStepRow): MessageRow | undefined {
  if (step.recipient_interviewer_id === null) return undefined;
  const stepsToRecipient = new Set(
    context.steps.filter((other) => other.recipient_interviewer_id === step.recipient_interviewer_id && other.id !== step.id).map((other) => other.id),
  );
  return context.messages
    .filter((message) => message.status === 'sent' && message.channel === 'email' && stepsToRecipient.has(message.step_id))
    .sort((a, b) => (a.sent_at?.getTime() ?? 0) - (b.sent_at?.getTime() ?? 0))
    .at(-1);
}

function replySubject(subject: string): string {
  return `Re: ${subject.replace(/^(\s*re:\s*)+/i, '')}`;
}

/** The other thank-yous of the panel as they would read, for L11 (uniform panels only). */
function panelSiblings(context: PlanContext, step: FollowUpStepRow): RenderedMessage[] {
  if (step.kind !== 'thank_you' || context.policy.panelConsistency !== 'uniform') return [];
  return context.steps
    .filter((other) => other.kind === 'thank_you' && other.id !== step.id)
    .map((other) => {
      const existing = context.messages.find((message) => message.step_id === other.id);
      if (existing) return { subject: existing.subject, body: existing.body };
      try {
        return render(context, other, other.channel as Channel);
      } catch {
        return null;
      }
    })
    .filter((message): message is RenderedMessage => message !== null);
}

/**
 * Our wording for a letter, trying other wordings when one is too close to a letter another
 * candidate sent (L12) — without coming closer than half to this panel's other thank-yous.
 * A tenant's own body is what it is: only its first rendering is tried. Falls back to the first
 * wording, which lint then holds with its L12 finding.
 */
function renderDistinct(context: PlanContext, step: FollowUpStepRow, channel: Channel, self: LetterIdentity | null): RenderedMessage {
  const first = render(context, step, channel, 0);
  const tenantBody = context.policy.templates[TEMPLATE_KEY_BY_KIND[step.kind as StepKind]]?.body !== undefined;
  if (!context.canned || !self || tenantBody || step.kind === 'call_task' || !isLetterChannel(channel)) return first;
  if (!findCannedMatch(context.canned.index, letterHashes(first.body), self)) return first;
  const siblings = step.kind === 'thank_you' && context.policy.panelConsistency !== 'uniform' ? panelLetters(context, step) : [];
  for (let attempt = 1; attempt < MAX_WORDING_ATTEMPTS; attempt += 1) {
    const candidate = render(context, step, channel, attempt);
    if (findCannedMatch(context.canned.index, letterHashes(candidate.body), self)) continue;
    if (siblings.some((sibling) => sharedSentenceRatio(candidate.body, sibling) > 0.5)) continue;
    return candidate;
  }
  return first;
}

/** The bodies of this panel's other thank-yous: as written, or as they will be. */
function panelLetters(context: PlanContext, step: FollowUpStepRow): string[] {
  return context.steps
    .filter((other) => other.kind === 'thank_you' && other.id !== step.id)
    .map((other) => context.messages.find((message) => message.step_id === other.id)?.body ?? render(context, other, other.channel as Channel).body);
}

export function lintComposed(
  context: PlanContext,
  step: FollowUpStepRow,
  channel: Channel,
  message: RenderedMessage,
  spell: SpellChecker,
  messageId?: string,
): LintFinding[] {
  const facts = stepFactsOf(step);
  const self = letterIdentity(context, step.recipient_email);
  return lintMessage({
    canned: context.canned && self ? { index: context.canned.index, self, messageId } : undefined,
    kind: facts.kind,
    channel,
    message,
    recipient: facts.recipient,
    interview: context.facts,
    panelSiblings: panelSiblings(context, step),
    policy: context.policy,
    spell,
  });
}

export function composeStepMessage(
  context: PlanContext,
  step: FollowUpStepRow,
  channel: Channel,
  spell: SpellChecker,
  now: Date,
): ComposedMessage {
  let rendered: RenderedMessage;
  let findings: LintFinding[];
  const id = newId();
  const self = letterIdentity(context, step.recipient_email);
  try {
    rendered = renderDistinct(context, step, channel, self);
    findings = [];
  } catch (error) {
    // A tenant's template that cannot render holds the message for a person, with the reason.
    if (!(error instanceof TemplateRenderError)) throw error;
    rendered = { subject: context.facts.positionTitle, body: '' };
    findings = [{ rule: 'L3', level: 'error', detail: `the tenant's template could not be rendered: ${error.message}` }];
  }

  const previous = THREADED_KINDS.has(step.kind as StepKind) && channel === 'email' ? previousEmailTo(context, step) : undefined;
  if (previous) rendered = { ...rendered, subject: replySubject(previous.subject) };
  if (findings.length === 0) findings = lintComposed(context, step, channel, rendered, spell, id);
  const hasErrors = hasLintErrors(findings);
  // A letter that may leave is recorded, so later letters of other candidates are compared with it.
  if (!hasErrors && context.canned && self && step.kind !== 'call_task' && isLetterChannel(channel)) {
    recordLetter(context.canned, context.tenant.tenant_id, id, self, rendered.body, now);
  }

  const { candidate } = context.facts;
  const toAddress = channel === 'email' ? step.recipient_email : channel === 'sms' || channel === 'phone' ? step.recipient_phone : (step.recipient_email ?? step.recipient_phone);
  return {
    findings,
    hasErrors,
    row: {
      tenant_id: context.tenant.tenant_id,
      id,
      step_id: step.id,
      plan_id: step.plan_id,
      kind: step.kind,
      channel,
      status: 'held',
      to_name: step.recipient_name,
      to_address: toAddress,
      // Sent from the tenant's own address (so SPF/DMARC pass), with replies going to the candidate.
      from_name: `${candidate.name} via ${context.tenant.name}`,
      from_address: context.tenant.sending_address,
      reply_to_name: candidate.name,
      reply_to_address: candidate.email,
      subject: rendered.subject,
      body: rendered.body,
      message_id_header: `<${id}@${domainOf(context.tenant.sending_address)}>`,
      in_reply_to: previous?.message_id_header ?? null,
      references_header: JSON.stringify(previous ? [...previous.references_header, previous.message_id_header] : []),
      lint_findings: JSON.stringify(findings),
      next_attempt_at: null,
      sent_at: null,
      created_at: now,
      updated_at: now,
    },
  };
}
