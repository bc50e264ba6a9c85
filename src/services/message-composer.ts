import type { FollowUpStepRow, MessageRow, NewMessage } from '../db/schema.js';
import { newId } from '../db/ids.js';
import { stepZone } from '../domain/evaluate.js';
import { hasLintErrors, lintMessage, type SpellChecker } from '../domain/lint.js';
import { messageContext, renderMessage, TEMPLATE_KEY_BY_KIND, TemplateRenderError } from '../domain/templates.js';
import type { Channel, LintFinding, RenderedMessage, StepKind } from '../domain/types.js';
import type { PlanContext } from './plan-context.js';
import { stepFactsOf } from './plan-context.js';

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

function render(context: PlanContext, step: FollowUpStepRow, channel: Channel): RenderedMessage {
  const facts = stepFactsOf(step);
  const zone = stepZone(facts, context.facts);
  const messageFacts = messageContext({
    kind: facts.kind,
    recipient: facts.recipient,
    interview: context.facts,
    zone,
    channel,
    panelConsistency: context.policy.panelConsistency,
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

export function lintComposed(
  context: PlanContext,
  step: FollowUpStepRow,
  channel: Channel,
  message: RenderedMessage,
  spell: SpellChecker,
): LintFinding[] {
  const facts = stepFactsOf(step);
  return lintMessage({
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
  try {
    rendered = render(context, step, channel);
    findings = [];
  } catch (error) {
    // A tenant's template that cannot render holds the message for a person, with the reason.
    if (!(error instanceof TemplateRenderError)) throw error;
    rendered = { subject: context.facts.positionTitle, body: '' };
    findings = [{ rule: 'L3', level: 'error', detail: `the tenant's template could not be rendered: ${error.message}` }];
  }

  const previous = THREADED_KINDS.has(step.kind as StepKind) && channel === 'email' ? previousEmailTo(context, step) : undefined;
  if (previous) rendered = { ...rendered, subject: replySubject(previous.subject) };
  if (findings.length === 0) findings = lintComposed(context, step, channel, rendered, spell);

  const id = newId();
  const { candidate } = context.facts;
  const toAddress = channel === 'email' ? step.recipient_email : channel === 'sms' || channel === 'phone' ? step.recipient_phone : (step.recipient_email ?? step.recipient_phone);
  return {
    findings,
    hasErrors: hasLintErrors(findings),
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
