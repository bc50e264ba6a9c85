import { type Kysely, sql } from 'kysely';

// The candidate's page: links a partner sends to a candidate. Only the SHA-256 of a link's
// secret is kept, so a copy of the database opens no one's page. Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE review_links (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      id uuid NOT NULL,
      candidate_id uuid NOT NULL,
      secret_sha256 text NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, candidate_id) REFERENCES candidates (tenant_id, id)
    )`.execute(db);
  // The exchange knows only the secret: its hash finds the link (and with it the tenant).
  await sql`CREATE UNIQUE INDEX review_links_secret_sha256 ON review_links (secret_sha256)`.execute(db);
  await sql`CREATE INDEX review_links_candidate ON review_links (tenant_id, candidate_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE review_links`.execute(db);
}
