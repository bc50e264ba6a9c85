import { type Kysely, sql } from 'kysely';

// Frozen in time: this file never imports from src/, so later code changes cannot alter what
// an old migration did.
//
// Tenancy: every table carries tenant_id and every key and index leads with it, so one
// PostgreSQL primary or a Citus cluster distributed on tenant_id take the same schema.
// Foreign keys are composite (tenant_id, id), which also makes a cross-tenant reference
// impossible at the database level. The tenants table is the registry itself (a reference
// table under Citus); its slug index is the one global lookup.
//
// Ids are UUIDv7, made by the application: time-ordered, so the primary key (tenant_id, id)
// is also the stable page order of every list, and inserts stay at the right edge of the index.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE tenants (
      tenant_id uuid PRIMARY KEY,
      slug text NOT NULL UNIQUE,
      name text NOT NULL,
      sending_address text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE policies (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      version integer NOT NULL CHECK (version > 0),
      document jsonb NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE candidates (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      id uuid NOT NULL,
      name text NOT NULL,
      email text NOT NULL,
      phone text,
      timezone text,
      consent boolean NOT NULL,
      consent_at timestamptz,
      linkedin_url text,
      signature text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      CHECK (consent = (consent_at IS NOT NULL))
    )`.execute(db);
  await sql`CREATE INDEX candidates_email ON candidates (tenant_id, lower(email))`.execute(db);

  await sql`
    CREATE TABLE companies (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      id uuid NOT NULL,
      name text NOT NULL,
      preferred_channel text,
      follow_up_style text NOT NULL DEFAULT 'standard'
        CHECK (follow_up_style IN ('standard', 'thank_you_only', 'none')),
      timezone text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`.execute(db);
  // One row per company name (case-insensitive) within a tenant: interviews name the company.
  await sql`CREATE UNIQUE INDEX companies_name ON companies (tenant_id, lower(name))`.execute(db);

  await sql`
    CREATE TABLE interviews (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      candidate_id uuid NOT NULL,
      company_id uuid NOT NULL,
      position_title text NOT NULL,
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      timezone text NOT NULL,
      channel text,
      decision_expected_by timestamptz,
      call_back_expected_by timestamptz,
      topics jsonb NOT NULL DEFAULT '[]',
      status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
      outcome text CHECK (outcome IN ('offer', 'hired', 'rejected', 'withdrawn')),
      outcome_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id),
      FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, id),
      CHECK (ends_at > starts_at)
    )`.execute(db);
  await sql`CREATE INDEX interviews_candidate ON interviews (tenant_id, candidate_id, starts_at)`.execute(db);
  await sql`CREATE INDEX interviews_company ON interviews (tenant_id, company_id)`.execute(db);

  await sql`
    CREATE TABLE interviewers (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      interview_id uuid NOT NULL,
      position smallint NOT NULL,
      name text NOT NULL,
      email text,
      phone text,
      title text,
      timezone text,
      preferred_channel text,
      is_primary_contact boolean NOT NULL DEFAULT false,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, interview_id) REFERENCES interviews (tenant_id, id) ON DELETE CASCADE,
      CHECK (email IS NOT NULL OR phone IS NOT NULL)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX interviewers_by_interview ON interviewers (tenant_id, interview_id, position)`.execute(db);

  await sql`
    CREATE TABLE audit_events (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      id uuid NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      actor text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id uuid NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      PRIMARY KEY (tenant_id, id)
    )`.execute(db);
  await sql`CREATE INDEX audit_events_by_entity ON audit_events (tenant_id, entity_id, id)`.execute(db);
  // Append-only, enforced where no application bug can get around it.
  await sql`
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_events is append-only';
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['audit_events', 'interviewers', 'interviews', 'companies', 'candidates', 'policies', 'tenants']) {
    await sql`DROP TABLE ${sql.table(table)}`.execute(db);
  }
  await sql`DROP FUNCTION audit_events_append_only()`.execute(db);
}
