import { type Kysely, sql } from 'kysely';

// Sandbox tenants live on their own test clock: `test_clock_at` is their "now", frozen between
// advances (as Stripe's test clocks are). A tenant is a sandbox from birth or never, so the
// check keeps the two columns in step. Audit events of a sandbox carry its clock's time, set by
// the database itself so that every writer (present and future) gets it without passing it.
// Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tenants
      ADD COLUMN sandbox boolean NOT NULL DEFAULT false,
      ADD COLUMN test_clock_at timestamptz,
      ADD CONSTRAINT tenants_sandbox_has_clock CHECK (sandbox = (test_clock_at IS NOT NULL))`.execute(db);
  await sql`
    CREATE FUNCTION audit_events_at_test_clock() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE clock timestamptz;
    BEGIN
      SELECT test_clock_at INTO clock FROM tenants WHERE tenant_id = NEW.tenant_id;
      IF clock IS NOT NULL THEN NEW.at := clock; END IF;
      RETURN NEW;
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_at_test_clock BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_at_test_clock()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER audit_events_at_test_clock ON audit_events`.execute(db);
  await sql`DROP FUNCTION audit_events_at_test_clock()`.execute(db);
  await sql`ALTER TABLE tenants DROP CONSTRAINT tenants_sandbox_has_clock, DROP COLUMN test_clock_at, DROP COLUMN sandbox`.execute(db);
}
