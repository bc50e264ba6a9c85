import { type Kysely, sql } from 'kysely';

// Follow-up plans and their steps (the policy engine's output). Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE follow_up_plans (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      interview_id uuid NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
      status_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, interview_id) REFERENCES interviews (tenant_id, id)
    )`.execute(db);
  // One plan per interview.
  await sql`CREATE UNIQUE INDEX follow_up_plans_interview ON follow_up_plans (tenant_id, interview_id)`.execute(db);

  await sql`
    CREATE TABLE follow_up_steps (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      plan_id uuid NOT NULL,
      -- Stable identity within the plan (e.g. thank_you:<interviewer>), so a recomputed plan
      -- updates the same rows instead of adding new ones.
      key text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('thank_you', 'check_in', 'final_check_in', 'call_task', 'keep_in_touch', 'respond_to_concerns')),
      channel text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin', 'phone', 'handwritten')),
      status text NOT NULL CHECK (status IN ('scheduled', 'awaiting_approval', 'needs_review', 'queued', 'sent', 'failed', 'skipped', 'cancelled')),
      -- Why a step was skipped, cancelled or held.
      reason text,
      recipient_interviewer_id uuid,
      recipient_name text NOT NULL,
      recipient_email text,
      recipient_phone text,
      recipient_timezone text,
      due_at timestamptz NOT NULL,
      window_ends_at timestamptz,
      -- The rule results behind the step's current state: [{ rule, outcome, detail }].
      decisions jsonb NOT NULL DEFAULT '[]',
      late boolean NOT NULL DEFAULT false,
      approved boolean NOT NULL DEFAULT false,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, plan_id) REFERENCES follow_up_plans (tenant_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX follow_up_steps_plan_key ON follow_up_steps (tenant_id, plan_id, key)`.execute(db);
  // The worker's way in: only steps still waiting to be evaluated, by due time, so a tick costs
  // in proportion to what is due, however many steps are stored.
  await sql`CREATE INDEX follow_up_steps_due ON follow_up_steps (tenant_id, due_at) WHERE status = 'scheduled'`.execute(db);
  await sql`CREATE INDEX follow_up_steps_listing ON follow_up_steps (tenant_id, status, due_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE follow_up_steps`.execute(db);
  await sql`DROP TABLE follow_up_plans`.execute(db);
}
