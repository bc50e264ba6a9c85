import { type Kysely, sql } from 'kysely';

// Webhook endpoints and the delivery outbox (one leased row per endpoint per event), with a log
// of every attempt. Frozen in time: never imports src/.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE webhook_endpoints (
      tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
      id uuid NOT NULL,
      url text NOT NULL,
      -- Event types it wants; empty means every event.
      events jsonb NOT NULL DEFAULT '[]',
      secret text NOT NULL,
      -- After a rotation the old secret still signs, beside the new one, until it expires.
      previous_secret text,
      previous_secret_expires_at timestamptz,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
      status_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id)
    )`.execute(db);

  await sql`
    CREATE TABLE webhook_deliveries (
      tenant_id uuid NOT NULL,
      -- Also the webhook-id header: stable across the retries of one delivery.
      id uuid NOT NULL,
      endpoint_id uuid NOT NULL,
      event_type text NOT NULL,
      -- The exact JSON body sent: { type, timestamp, data }.
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'delivered', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      last_duration_ms integer,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id)
    )`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id)`.execute(db);
  // The sender's way in: pending deliveries by time, and deliveries whose lease ran out.
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status IN ('pending', 'delivering')`.execute(db);

  await sql`
    CREATE TABLE webhook_attempts (
      tenant_id uuid NOT NULL,
      id uuid NOT NULL,
      delivery_id uuid NOT NULL,
      attempted_at timestamptz NOT NULL,
      outcome text NOT NULL,
      status_code integer,
      duration_ms integer NOT NULL,
      error text,
      PRIMARY KEY (tenant_id, id),
      FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
    )`.execute(db);
  await sql`CREATE INDEX webhook_attempts_delivery ON webhook_attempts (tenant_id, delivery_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE webhook_attempts`.execute(db);
  await sql`DROP TABLE webhook_deliveries`.execute(db);
  await sql`DROP TABLE webhook_endpoints`.execute(db);
}
