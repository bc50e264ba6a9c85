import { type Kysely, sql } from 'kysely';

// The outbox (messages), the events that stop follow-ups (replies), and the addresses never to
// write to (suppressions). Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  // A plan can be paused: its waiting steps step out of the worker's due index until resumed.
  await sql`ALTER TABLE follow_up_steps DROP CONSTRAINT follow_up_steps_status_check`.execute(db);
  await sql`
    ALTER TABLE follow_up_steps ADD CONSTRAINT follow_up_steps_status_check CHECK (status IN
      ('scheduled', 'paused', 'awaiting_approval', 'needs_review', 'queued', 'sent', 'failed', 'skipped', 'cancelled'))`.execute(db);

  await sql`
    CREATE TABLE messages (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      step_id uuid NOT NULL,
      plan_id uuid NOT NULL,
      kind text NOT NULL,
      channel text NOT NULL,
      -- held (for approval or review) → queued → sending (leased) → sent | retry → dead;
      -- awaiting_delivery for partner-delivered channels; discarded or cancelled when stopped.
      status text NOT NULL CHECK (status IN
        ('held', 'queued', 'sending', 'retry', 'sent', 'dead', 'awaiting_delivery', 'discarded', 'cancelled')),
      to_name text NOT NULL,
      to_address text,
      from_name text NOT NULL,
      from_address text NOT NULL,
      reply_to_name text NOT NULL,
      reply_to_address text NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      -- Fixed at creation: a re-send after a crash carries the same Message-ID.
      message_id_header text NOT NULL,
      in_reply_to text,
      references_header jsonb NOT NULL DEFAULT '[]',
      lint_findings jsonb NOT NULL DEFAULT '[]',
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      -- For queued/retry: when it may go; for sending: when its lease runs out.
      next_attempt_at timestamptz,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, step_id) REFERENCES follow_up_steps (tenant_id, id)
    )`.execute(db);
  // One message per step (a step has one recipient): the (step, recipient) key of the outbox.
  await sql`CREATE UNIQUE INDEX messages_step ON messages (tenant_id, step_id)`.execute(db);
  await sql`CREATE INDEX messages_plan ON messages (tenant_id, plan_id)`.execute(db);
  // The dispatcher's way in: what may be (re)sent now, expired leases included.
  await sql`CREATE INDEX messages_due ON messages (tenant_id, next_attempt_at) WHERE status IN ('queued', 'retry', 'sending')`.execute(db);

  await sql`
    CREATE TABLE replies (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      interview_id uuid NOT NULL,
      from_email text NOT NULL,
      from_name text,
      received_at timestamptz NOT NULL,
      raises_concerns boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, interview_id) REFERENCES interviews (tenant_id, id)
    )`.execute(db);
  await sql`CREATE INDEX replies_interview ON replies (tenant_id, interview_id)`.execute(db);

  await sql`
    CREATE TABLE suppressions (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      -- Lower-cased email, or an E.164 phone number.
      address text NOT NULL,
      reason text NOT NULL CHECK (reason IN ('hard_bounce', 'opt_out', 'manual')),
      detail text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, address)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE suppressions`.execute(db);
  await sql`DROP TABLE replies`.execute(db);
  await sql`DROP TABLE messages`.execute(db);
  await sql`ALTER TABLE follow_up_steps DROP CONSTRAINT follow_up_steps_status_check`.execute(db);
  await sql`
    ALTER TABLE follow_up_steps ADD CONSTRAINT follow_up_steps_status_check CHECK (status IN
      ('scheduled', 'awaiting_approval', 'needs_review', 'queued', 'sent', 'failed', 'skipped', 'cancelled'))`.execute(db);
}
