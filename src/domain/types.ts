// The vocabulary of the pure core. Services translate database rows into these shapes and
// back; nothing here knows about SQL, GraphQL or HTTP. Instants are `Date` (UTC); local
// wall-clock reasoning happens inside the calendar with IANA zone names.

export type StepKind =
  | 'thank_you'
  | 'check_in'
  | 'final_check_in'
  | 'call_task'
  | 'keep_in_touch'
  | 'respond_to_concerns';

export type Channel = 'email' | 'sms' | 'linkedin' | 'phone' | 'handwritten';

export type FollowUpStyle = 'standard' | 'thank_you_only' | 'none';

export type Outcome = 'offer' | 'hired' | 'rejected' | 'withdrawn';

export type PlanStatus = 'active' | 'paused' | 'completed' | 'cancelled';

/** Rule ids from POLICY.md, plus `APPROVAL` for the per-kind review setting. */
export type RuleId =
  | 'T1' | 'T2' | 'T3' | 'T4' | 'T5' | 'T6'
  | 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6'
  | 'C1' | 'C2' | 'C3' | 'C4'
  | 'L1' | 'L2' | 'L3' | 'L4' | 'L5' | 'L6' | 'L7' | 'L8' | 'L9' | 'L10' | 'L11' | 'L12'
  | 'APPROVAL';

/**
 * One rule's say in a decision. `pass`: the rule was checked and let the step through
 * unchanged. `adjust`: the rule changed something (a time, a channel, a `late` mark).
 * `block`: the rule stopped, held, deferred or cancelled the step.
 */
export interface RuleResult {
  rule: RuleId;
  outcome: 'pass' | 'adjust' | 'block';
  detail: string;
}

export interface CandidateFacts {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  timezone: string | null;
  consent: boolean;
  linkedinUrl: string | null;
  /** A sign-off block the candidate wrote; when null the templates build one. */
  signature: string | null;
}

export interface CompanyFacts {
  /** The stored company's id (L12 compares letters to one company); absent in hand-made facts. */
  id?: string;
  name: string;
  preferredChannel: Channel | null;
  followUpStyle: FollowUpStyle;
  timezone: string | null;
}

export interface InterviewerFacts {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  title: string | null;
  timezone: string | null;
  preferredChannel: Channel | null;
  isPrimaryContact: boolean;
  /** What this person discussed with the candidate; their letters name these first. */
  topics?: string[];
  /** "Dr.", "Ms." …: given, or read from the name. */
  honorific?: string | null;
}

export interface InterviewFacts {
  id: string;
  positionTitle: string;
  startsAt: Date;
  endsAt: Date;
  /** The interview's own IANA zone: the last fallback for a recipient's zone (T2). */
  timezone: string;
  /** The channel the interview was arranged through (C1's third choice). */
  channel: Channel | null;
  decisionExpectedBy: Date | null;
  /** When the interviewer said they would call back (drives the optional call_task). */
  callBackExpectedBy: Date | null;
  topics: string[];
  /** The debrief (all optional): what the candidate wants to stress, as a noun phrase. */
  highlights?: string | null;
  /** Something the candidate did not mention in the interview. */
  leftOut?: string | null;
  /** An article or work sample worth sending in a check-in. */
  resourceUrl?: string | null;
  status: 'scheduled' | 'cancelled';
  outcome: Outcome | null;
  outcomeAt: Date | null;
  company: CompanyFacts;
  candidate: CandidateFacts;
  /** In the order the partner listed them; never empty. */
  interviewers: InterviewerFacts[];
}

/** Who a step is addressed to. `interviewerId` is null only for the candidate's own call task. */
export interface Recipient {
  interviewerId: string | null;
  name: string;
  email: string | null;
  phone: string | null;
  timezone: string | null;
}

/** A message that has gone out (or a partner-delivered step reported delivered). */
export interface SentRecord {
  stepId: string;
  kind: StepKind;
  /** The interviewer it went to (null: to the candidate, e.g. a call task reminder). */
  interviewerId: string | null;
  channel: Channel;
  sentAt: Date;
}

export interface ReplyRecord {
  fromEmail: string;
  receivedAt: Date;
  raisesConcerns: boolean;
  /** Judged when the reply was recorded (employer-reply.ts); absent for replies kept before that. */
  fromEmployer?: boolean | null;
}

/** A step as stored: what the plan builder placed, plus what happened since. */
export interface StepFacts {
  id: string;
  /** Deterministic identity within a plan, e.g. `thank_you:<interviewerId>`; see `stepKey`. */
  key: string;
  kind: StepKind;
  channel: Channel;
  recipient: Recipient;
  dueAt: Date;
  /** After this instant the step can no longer go (T1 grace, a check-in window); null: none. */
  windowEndsAt: Date | null;
  /**
   * The candidate (or coach) has approved this step's held message. With `approval: review`
   * the evaluator holds a step until this is true; the worker evaluates again after approval.
   */
  approved?: boolean;
}

export interface EvaluationFacts {
  interview: InterviewFacts;
  policy: import('./policy-document.js').PolicyDocument;
  planStatus: PlanStatus;
  /** Every message of this interview's plan that has gone out, any recipient. */
  sent: SentRecord[];
  /** Steps of this plan still waiting (scheduled, awaiting approval, queued), other than the one evaluated. */
  pending: Array<Pick<StepFacts, 'id' | 'key' | 'kind' | 'recipient' | 'dueAt'>>;
  replies: ReplyRecord[];
  /** The recipient's address (email or phone) is on the tenant's suppression list. */
  recipientSuppressed: boolean;
}

export type Decision =
  | { type: 'send'; channel: Channel; late: boolean; rules: RuleResult[] }
  | { type: 'defer'; until: Date; rules: RuleResult[] }
  | { type: 'skip'; reason: string; rules: RuleResult[] }
  | { type: 'hold'; reason: string; rules: RuleResult[] }
  | { type: 'cancel_plan'; reason: string; rules: RuleResult[] };

/** A step the plan builder proposes; services store it (or compare it with what is stored). */
export interface PlannedStep {
  key: string;
  kind: StepKind;
  channel: Channel;
  recipient: Recipient;
  dueAt: Date;
  windowEndsAt: Date | null;
  /** `skipped` when a rule rules it out already at planning time (e.g. S5, T1 window missed). */
  status: 'scheduled' | 'skipped';
  reason: string | null;
  rules: RuleResult[];
}

export interface LintFinding {
  rule: RuleId;
  level: 'error' | 'warning';
  detail: string;
}

export interface RenderedMessage {
  subject: string;
  body: string;
}
