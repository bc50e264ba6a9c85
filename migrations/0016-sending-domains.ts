import { type Kysely, sql } from 'kysely';

// Sending domains: the DKIM key a tenant signs its mail with, per domain. The private key is kept
// sealed (AES-256-GCM under ENCRYPTION_KEY), never in the clear. Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE sending_domains (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      domain text NOT NULL,
      selector text NOT NULL,
      algorithm text NOT NULL,
      private_key_sealed text NOT NULL,
      public_key_der text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, domain)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE sending_domains`.execute(db);
}
