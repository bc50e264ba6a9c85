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
}

export type TenantRow = Selectable<TenantsTable>;
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
