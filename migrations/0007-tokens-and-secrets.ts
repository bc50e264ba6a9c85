import { type Kysely, sql } from 'kysely';

// Who may see what: tenants that can be disabled, token revocation, partners' public signing
// keys, and erasure of a candidate. Frozen in time: never imports src/.
//
// Webhook secrets are sealed (AES-256-GCM) by the application, not here: a migration cannot
// rely on seeing ENCRYPTION_KEY (it may run from another process or a CI job without it). So
// sealed values carry the prefix `sealed:v1:`, and every start seals whatever is still plain
// right after migrating (src/security/seal-stored-secrets.ts); nothing reads a plain one as
// sealed or the other way round.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Read by every replica's access cache (a few seconds old at most) and by the worker's claims.
  await sql`
    ALTER TABLE tenants
      ADD COLUMN disabled_at timestamptz,
      ADD COLUMN tokens_revoked_before timestamptz`.execute(db);

  // One row per revoked token id, kept until the token would have expired anyway.
  await sql`
    CREATE TABLE revoked_tokens (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      jti text NOT NULL,
      revoked_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, jti)
    )`.execute(db);

  // Public keys partners sign their own tokens with (ES256 or RS256), named by the header's kid.
  await sql`
    CREATE TABLE signing_keys (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      kid text NOT NULL,
      algorithm text NOT NULL CHECK (algorithm IN ('ES256', 'RS256')),
      public_key_pem text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, kid)
    )`.execute(db);

  // An erased candidate keeps its row (ids stay valid for foreign keys) without personal data.
  await sql`ALTER TABLE candidates ADD COLUMN erased_at timestamptz`.execute(db);

  // Audit events hold ids and the NAMES of changed fields from now on. Events written before
  // held values (a candidate's name, email, phone at creation, from/to of each change, and the
  // address of a suppression): those are rewritten here to field names only, as new ones are. The trigger is
  // replaced first so that this scrub is the one change it lets through.
  await sql`
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- Exactly one change is allowed: erasing an event's data (it becomes {"erased": true}),
      -- everything else about the event unchanged. Nothing is ever deleted.
      IF TG_OP = 'UPDATE'
         AND NEW.tenant_id = OLD.tenant_id AND NEW.id = OLD.id AND NEW.at = OLD.at
         AND NEW.actor = OLD.actor AND NEW.action = OLD.action
         AND NEW.entity_type = OLD.entity_type AND NEW.entity_id = OLD.entity_id
         AND NEW.data = '{"erased": true}'::jsonb THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit_events is append-only';
    END
    $$`.execute(db);

  // The scrub of what was stored before (the trigger above would refuse it: a migration may).
  await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`.execute(db);
  await sql`
    UPDATE audit_events
    SET data = jsonb_build_object('fields', (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]'::jsonb) FROM jsonb_object_keys(data -> 'created') AS key))
    WHERE action = 'candidate.created' AND data ? 'created'`.execute(db);
  await sql`
    UPDATE audit_events
    SET data = jsonb_build_object('changed', (SELECT coalesce(jsonb_agg(key ORDER BY key), '[]'::jsonb) FROM jsonb_object_keys(data -> 'changes') AS key))
    WHERE action = 'candidate.updated' AND data ? 'changes'`.execute(db);
  await sql`
    UPDATE audit_events SET data = data - 'address'
    WHERE action IN ('suppression.added', 'suppression.removed') AND data ? 'address'`.execute(db);
  await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END
    $$`.execute(db);
  await sql`ALTER TABLE candidates DROP COLUMN erased_at`.execute(db);
  await sql`DROP TABLE signing_keys`.execute(db);
  await sql`DROP TABLE revoked_tokens`.execute(db);
  await sql`ALTER TABLE tenants DROP COLUMN disabled_at, DROP COLUMN tokens_revoked_before`.execute(db);
}
