import { type Kysely, sql } from 'kysely';

// Mail that comes back: replies, auto-replies and bounces, received over SMTP or from a
// provider's webhook. Each raw message is stored before it is acknowledged, then parsed,
// matched and acted on; forwards of employer replies to the candidate have their own small
// outbox. Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Replies now say what they were (a person, an auto-reply, a bounce), whether they counted as
  // the employer's (judged once, when recorded), what concerns were raised, and their text.
  await sql`ALTER TABLE replies ADD COLUMN from_employer boolean`.execute(db);
  await sql`ALTER TABLE replies ADD COLUMN concerns text`.execute(db);
  await sql`ALTER TABLE replies ADD COLUMN kind text NOT NULL DEFAULT 'human' CHECK (kind IN ('human', 'auto_reply', 'bounce'))`.execute(db);
  await sql`ALTER TABLE replies ADD COLUMN text text`.execute(db);
  await sql`ALTER TABLE replies ADD COLUMN inbound_message_id uuid`.execute(db);

  // Inbound mail names our message by id (in the reply token) or by its Message-ID header
  // (In-Reply-To, References) before its tenant is known: the two routing lookups of the
  // inbound side, the only indexes not led by tenant_id.
  await sql`CREATE INDEX messages_id ON messages (id)`.execute(db);
  await sql`CREATE INDEX messages_message_id_header ON messages (message_id_header)`.execute(db);
  // The last way to match a reply: its sender as the recipient of an open plan's step.
  await sql`CREATE INDEX follow_up_steps_recipient_email ON follow_up_steps (lower(recipient_email))`.execute(db);

  await sql`
    CREATE TABLE inbound_messages (
      id uuid PRIMARY KEY,
      -- Known once matched (null: matched nothing, or not processed yet).
      tenant_id uuid,
      -- smtp, postmark, mailgun, sendgrid, ses, raw, or a provider event source.
      source text NOT NULL,
      -- The provider's id for idempotency (a webhook retried is the same message).
      provider_message_id text,
      envelope_from text,
      envelope_to jsonb NOT NULL DEFAULT '[]',
      raw bytea NOT NULL,
      size integer NOT NULL,
      -- received → applied | unmatched | unparsable | failed
      status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'applied', 'unmatched', 'unparsable', 'failed')),
      classification text,
      detail text,
      matched_by text,
      message_id uuid,
      interview_id uuid,
      reply_id uuid,
      from_address text,
      subject text,
      message_id_header text,
      attempts integer NOT NULL DEFAULT 0,
      received_at timestamptz NOT NULL,
      processed_at timestamptz
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX inbound_messages_provider ON inbound_messages (source, provider_message_id) WHERE provider_message_id IS NOT NULL`.execute(db);
  // The processor's way in: what is stored but not yet handled (crash recovery included).
  await sql`CREATE INDEX inbound_messages_pending ON inbound_messages (received_at) WHERE status = 'received'`.execute(db);
  await sql`CREATE INDEX inbound_messages_tenant ON inbound_messages (tenant_id, received_at)`.execute(db);

  await sql`
    CREATE TABLE reply_forwards (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      reply_id uuid NOT NULL,
      -- queued → sent | retry → dead
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'retry', 'sent', 'dead')),
      from_name text NOT NULL,
      from_address text NOT NULL,
      reply_to_name text NOT NULL,
      reply_to_address text NOT NULL,
      to_name text NOT NULL,
      to_address text NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      message_id_header text NOT NULL,
      in_reply_to text,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      next_attempt_at timestamptz,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`.execute(db);
  await sql`CREATE INDEX reply_forwards_due ON reply_forwards (tenant_id, next_attempt_at) WHERE status IN ('queued', 'retry', 'sending')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE reply_forwards`.execute(db);
  await sql`DROP TABLE inbound_messages`.execute(db);
  await sql`DROP INDEX follow_up_steps_recipient_email`.execute(db);
  await sql`DROP INDEX messages_message_id_header`.execute(db);
  await sql`DROP INDEX messages_id`.execute(db);
  for (const column of ['inbound_message_id', 'text', 'kind', 'concerns', 'from_employer']) {
    await sql`ALTER TABLE replies DROP COLUMN ${sql.ref(column)}`.execute(db);
  }
}
