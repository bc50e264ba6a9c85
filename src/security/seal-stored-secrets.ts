import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findUnsealedEndpointSecrets, updateEndpointSecrets } from '../db/webhooks.js';
import { isSealed, sealSecret, useEncryptionKeys } from './secret-box.js';

// Migration 0007 cannot seal the webhook secrets stored before it (it cannot rely on seeing
// ENCRYPTION_KEY), so every start does it right after migrating: rows whose secret is still
// plain (no `sealed:v1:` prefix) are sealed under the first key of the ring. Idempotent; after
// the first start of this version it finds nothing.

export async function sealStoredSecrets(db: Kysely<Database>, encryptionKeys: string): Promise<number> {
  const ring = useEncryptionKeys(encryptionKeys);
  const rows = await findUnsealedEndpointSecrets(db);
  for (const row of rows) {
    await updateEndpointSecrets(db, row.tenant_id, row.id, {
      secret: isSealed(row.secret) ? row.secret : sealSecret(row.secret, ring),
      previous_secret: row.previous_secret === null || isSealed(row.previous_secret) ? row.previous_secret : sealSecret(row.previous_secret, ring),
    });
  }
  return rows.length;
}
