// Builders for realistic facts, so each test states only what it is about.

import { DateTime } from 'luxon';
import { DEFAULT_POLICY, resolvePolicyPatch, type PolicyDocument } from '../../../src/domain/policy-document.js';
import type {
  CandidateFacts,
  EvaluationFacts,
  InterviewFacts,
  InterviewerFacts,
  PlannedStep,
  SentRecord,
  StepFacts,
} from '../../../src/domain/types.js';

/** An instant given as local wall time in a zone, e.g. `at('2025-03-07 18:00', 'Europe/Paris')`. */
export function at(localWallTime: string, zone: string): Date {
  const parsed = DateTime.fromFormat(localWallTime, 'yyyy-MM-dd HH:mm', { zone });
  if (!parsed.isValid) throw new Error(`bad test time ${localWallTime} in ${zone}`);
  return parsed.toJSDate();
}

/** The local wall time of an instant, with the weekday, e.g. `Mon 2025-03-10 09:00`. */
export function local(instant: Date, zone: string): string {
  return DateTime.fromJSDate(instant, { zone }).setLocale('en-US').toFormat('ccc yyyy-MM-dd HH:mm');
}

export function policyWith(patch: Record<string, unknown> = {}): PolicyDocument {
  const result = resolvePolicyPatch(DEFAULT_POLICY, patch);
  if (!result.ok) throw new Error(`bad test policy: ${result.message}`);
  return result.document;
}

export function interviewer(id: string, overrides: Partial<InterviewerFacts> = {}): InterviewerFacts {
  return {
    id,
    name: `Interviewer ${id}`,
    email: `${id}@employer.example`,
    phone: null,
    title: 'Engineering Manager',
    timezone: null,
    preferredChannel: null,
    isPrimaryContact: false,
    ...overrides,
  };
}

export function candidate(overrides: Partial<CandidateFacts> = {}): CandidateFacts {
  return {
    id: 'cand-1',
    name: 'Dana Candidate',
    email: 'dana@candidate.example',
    phone: '+33 6 12 34 56 78',
    timezone: null,
    consent: true,
    linkedinUrl: null,
    signature: null,
    ...overrides,
  };
}

/**
 * A one-hour interview ending at `endsAtLocal` in `zone` (default: Friday 7 March 2025, 18:00
 * in Paris), with one primary-contact interviewer unless others are given.
 */
export function interviewFacts(
  overrides: Partial<Omit<InterviewFacts, 'company' | 'candidate'>> & {
    endsAtLocal?: string;
    company?: Partial<InterviewFacts['company']>;
    candidate?: Partial<CandidateFacts>;
  } = {},
): InterviewFacts {
  const { endsAtLocal, company, candidate: candidateOverrides, ...rest } = overrides;
  const zone = rest.timezone ?? 'Europe/Paris';
  const endsAt = rest.endsAt ?? at(endsAtLocal ?? '2025-03-07 18:00', zone);
  return {
    id: 'int-1',
    positionTitle: 'Backend Engineer',
    startsAt: new Date(endsAt.getTime() - 3_600_000),
    timezone: zone,
    channel: null,
    decisionExpectedBy: null,
    callBackExpectedBy: null,
    topics: ['event sourcing'],
    status: 'scheduled',
    outcome: null,
    outcomeAt: null,
    interviewers: [interviewer('alice', { isPrimaryContact: true })],
    ...rest,
    endsAt,
    company: { name: 'Acme', preferredChannel: null, followUpStyle: 'standard', timezone: null, ...company },
    candidate: candidate(candidateOverrides),
  };
}

export function stepFacts(overrides: Partial<StepFacts> & Pick<StepFacts, 'kind' | 'dueAt'>): StepFacts {
  return {
    id: 'step-1',
    key: overrides.kind,
    channel: 'email',
    recipient: { interviewerId: 'alice', name: 'Interviewer alice', email: 'alice@employer.example', phone: null, timezone: null },
    windowEndsAt: null,
    ...overrides,
  };
}

export function evaluationFacts(overrides: Partial<EvaluationFacts> = {}): EvaluationFacts {
  return {
    interview: interviewFacts(),
    policy: DEFAULT_POLICY,
    planStatus: 'active',
    sent: [],
    pending: [],
    replies: [],
    recipientSuppressed: false,
    ...overrides,
  };
}

export function sentRecord(kind: SentRecord['kind'], interviewerId: string | null, sentAt: Date, channel: SentRecord['channel'] = 'email'): SentRecord {
  return { stepId: `${kind}:${interviewerId ?? 'candidate'}`, kind, interviewerId, channel, sentAt };
}

/** The planned step with a key, or a test failure naming what the plan holds. */
export function stepByKey(plan: PlannedStep[], key: string): PlannedStep {
  const step = plan.find((candidateStep) => candidateStep.key === key);
  if (step === undefined) throw new Error(`no step ${key} in plan: ${plan.map((s) => s.key).join(', ')}`);
  return step;
}

/** A planned step as the worker would see it once stored. */
export function asStored(step: PlannedStep): StepFacts {
  return { id: step.key, key: step.key, kind: step.kind, channel: step.channel, recipient: step.recipient, dueAt: step.dueAt, windowEndsAt: step.windowEndsAt };
}

/** A planned step as a record of having gone out at its due time. */
export function asSent(step: PlannedStep): SentRecord {
  return { stepId: step.key, kind: step.kind, interviewerId: step.recipient.interviewerId, channel: step.channel, sentAt: step.dueAt };
}
