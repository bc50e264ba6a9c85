import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Row types of the database. They stay inside src/db and src/services: resolvers and routes
// only ever see the shapes the services return.

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface TenantsTable {
  tenant_id: string;
  slug: string;
  name: string;
  sending_address: string;
  created_at: Timestamp;
  disabled_at: Generated<Date | null>;
  tokens_revoked_before: Generated<Date | null>;
}

export interface RevokedTokensTable {
  tenant_id: string;
  jti: string;
  revoked_at: Timestamp;
  expires_at: Date;
}

export interface SigningKeysTable {
  tenant_id: string;
  kid: string;
  algorithm: string;
  public_key_pem: string;
  created_at: Timestamp;
}

export interface SendingDomainsTable {
  tenant_id: string;
  domain: string;
  selector: string;
  /** 'rsa-sha256' or 'ed25519-sha256'. */
  algorithm: string;
  /** The PEM private key, sealed by src/security/secret-box.ts. */
  private_key_sealed: string;
  /** The public key (SubjectPublicKeyInfo DER, base64), for the DNS record we show. */
  public_key_der: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ReviewLinksTable {
  tenant_id: string;
  id: string;
  candidate_id: string;
  secret_sha256: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface PoliciesTable {
  tenant_id: string;
  version: number;
  document: Json<unknown>;
  created_by: string;
  created_at: Timestamp;
}

export interface CandidatesTable {
  tenant_id: string;
  id: string;
  name: string;
  email: string;
  phone: string | null;
  timezone: string | null;
  consent: boolean;
  consent_at: Date | null;
  linkedin_url: string | null;
  signature: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  erased_at: Generated<Date | null>;
}

export interface CompaniesTable {
  tenant_id: string;
  id: string;
  name: string;
  preferred_channel: string | null;
  follow_up_style: string;
  timezone: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InterviewsTable {
  tenant_id: string;
  id: string;
  candidate_id: string;
  company_id: string;
  position_title: string;
  starts_at: Date;
  ends_at: Date;
  timezone: string;
  channel: string | null;
  decision_expected_by: Date | null;
  call_back_expected_by: Date | null;
  topics: Json<string[]>;
  status: Generated<string>;
  outcome: string | null;
  outcome_at: Date | null;
  /** The debrief: what the candidate wants to stress, forgot to say, and a resource to send later. */
  highlights: Generated<string | null>;
  left_out: Generated<string | null>;
  resource_url: Generated<string | null>;
  /** When interview.ended was emitted; null until the interview's end has passed. */
  ended_notified_at: Generated<Date | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InterviewersTable {
  tenant_id: string;
  id: string;
  interview_id: string;
  position: number;
  name: string;
  email: string | null;
  phone: string | null;
  title: string | null;
  timezone: string | null;
  preferred_channel: string | null;
  is_primary_contact: boolean;
  /** What this person discussed with the candidate (the debrief). */
  topics: ColumnType<string[], string | undefined, string>;
  honorific: Generated<string | null>;
}

/** One sentence (hashed) of a letter that left: what L12 compares later letters against. */
export interface MessageSentencesTable {
  tenant_id: string;
  message_id: string;
  hash: string;
  candidate_id: string;
  company_id: string;
  recipient_address: string | null;
  /** How many distinct sentences the letter has, on every row of it. */
  sentence_count: number;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  tenant_id: string;
  id: string;
  at: Timestamp;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  data: Json<Record<string, unknown>>;
}

export interface FollowUpPlansTable {
  tenant_id: string;
  id: string;
  interview_id: string;
  status: Generated<string>;
  status_reason: Generated<string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FollowUpStepsTable {
  tenant_id: string;
  id: string;
  plan_id: string;
  key: string;
  kind: string;
  channel: string;
  status: string;
  reason: string | null;
  recipient_interviewer_id: string | null;
  recipient_name: string;
  recipient_email: string | null;
  recipient_phone: string | null;
  recipient_timezone: string | null;
  due_at: Date;
  window_ends_at: Date | null;
  decisions: Json<Array<{ rule: string; outcome: string; detail: string }>>;
  late: Generated<boolean>;
  approved: Generated<boolean>;
  sent_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MessagesTable {
  tenant_id: string;
  id: string;
  step_id: string;
  plan_id: string;
  kind: string;
  channel: string;
  status: string;
  to_name: string;
  to_address: string | null;
  from_name: string;
  from_address: string;
  reply_to_name: string;
  reply_to_address: string;
  subject: string;
  body: string;
  message_id_header: string;
  in_reply_to: string | null;
  references_header: Json<string[]>;
  lint_findings: Json<Array<{ rule: string; level: string; detail: string }>>;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Date | null;
  /** When the server took it: set the moment it did, before the rest is recorded. */
  accepted_at: Generated<Date | null>;
  sent_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RepliesTable {
  tenant_id: string;
  id: string;
  interview_id: string;
  from_email: string;
  from_name: string | null;
  received_at: Date;
  raises_concerns: boolean;
  /** Judged once, when recorded (null: recorded before that was kept). */
  from_employer: Generated<boolean | null>;
  concerns: Generated<string | null>;
  kind: Generated<string>;
  /** The reply's text without its quoted part (inbound mail only). */
  text: Generated<string | null>;
  inbound_message_id: Generated<string | null>;
  created_at: Timestamp;
}

export interface InboundMessagesTable {
  id: string;
  tenant_id: string | null;
  source: string;
  provider_message_id: string | null;
  envelope_from: string | null;
  envelope_to: Json<string[]>;
  raw: Buffer;
  size: number;
  status: Generated<string>;
  classification: string | null;
  detail: string | null;
  matched_by: string | null;
  message_id: string | null;
  interview_id: string | null;
  reply_id: string | null;
  from_address: string | null;
  subject: string | null;
  message_id_header: string | null;
  attempts: Generated<number>;
  received_at: Date;
  processed_at: Date | null;
}

export interface ReplyForwardsTable {
  tenant_id: string;
  id: string;
  reply_id: string;
  status: Generated<string>;
  from_name: string;
  from_address: string;
  reply_to_name: string;
  reply_to_address: string;
  to_name: string;
  to_address: string;
  subject: string;
  body: string;
  message_id_header: string;
  in_reply_to: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SuppressionsTable {
  tenant_id: string;
  address: string;
  reason: string;
  detail: string | null;
  created_at: Timestamp;
}

export interface WebhookEndpointsTable {
  tenant_id: string;
  id: string;
  url: string;
  events: Json<string[]>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  status: Generated<string>;
  status_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_type: string;
  payload: Json<{ type: string; timestamp: string; data: Record<string, unknown> }>;
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  delivered_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookAttemptsTable {
  tenant_id: string;
  id: string;
  delivery_id: string;
  attempted_at: Date;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** SMTP_MAX_PER_SECOND: messages handed to the relay per time slot, across worker processes. */
export interface SmtpSendSlotsTable {
  slot: string | number;
  taken: number;
}

export interface Database {
  tenants: TenantsTable;
  policies: PoliciesTable;
  candidates: CandidatesTable;
  companies: CompaniesTable;
  interviews: InterviewsTable;
  interviewers: InterviewersTable;
  audit_events: AuditEventsTable;
  follow_up_plans: FollowUpPlansTable;
  follow_up_steps: FollowUpStepsTable;
  messages: MessagesTable;
  replies: RepliesTable;
  inbound_messages: InboundMessagesTable;
  reply_forwards: ReplyForwardsTable;
  suppressions: SuppressionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  revoked_tokens: RevokedTokensTable;
  signing_keys: SigningKeysTable;
  sending_domains: SendingDomainsTable;
  review_links: ReviewLinksTable;
  message_sentences: MessageSentencesTable;
  smtp_send_slots: SmtpSendSlotsTable;
}

export type TenantRow = Selectable<TenantsTable>;
export type ReviewLinkRow = Selectable<ReviewLinksTable>;
export type CandidateRow = Selectable<CandidatesTable>;
export type NewCandidate = Insertable<CandidatesTable>;
export type CandidateUpdate = Updateable<CandidatesTable>;
export type CompanyRow = Selectable<CompaniesTable>;
export type InterviewRow = Selectable<InterviewsTable>;
export type NewInterview = Insertable<InterviewsTable>;
export type InterviewerRow = Selectable<InterviewersTable>;
export type NewInterviewer = Insertable<InterviewersTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type FollowUpPlanRow = Selectable<FollowUpPlansTable>;
export type FollowUpStepRow = Selectable<FollowUpStepsTable>;
export type NewFollowUpStep = Insertable<FollowUpStepsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type ReplyRow = Selectable<RepliesTable>;
export type InboundMessageRow = Selectable<InboundMessagesTable>;
export type ReplyForwardRow = Selectable<ReplyForwardsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type SendingDomainRow = Selectable<SendingDomainsTable>;

// Column names, for readers that fetch only what their caller will read.
export type CandidateColumn = keyof CandidatesTable & string;
export type InterviewColumn = keyof InterviewsTable & string;
export type InterviewerColumn = keyof InterviewersTable & string;
export type FollowUpPlanColumn = keyof FollowUpPlansTable & string;
export type FollowUpStepColumn = keyof FollowUpStepsTable & string;
