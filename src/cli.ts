import { parseArgs } from 'node:util';
import { loadConfig, resolveEncryptionKey, resolveJwtSecret } from './config.js';
import { DataDirectoryLockedError, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ServiceError } from './services/errors.js';
import { isId } from './db/ids.js';
import { findCandidatesByIds } from './db/candidates.js';
import { sealStoredSecrets } from './security/seal-stored-secrets.js';
import { createTenant, getTenantBySlug, setTenantEnabled } from './services/tenants.js';
import { DEFAULT_CANDIDATE_TOKEN_SECONDS, DEFAULT_TOKEN_LIFETIME, mintServerToken, mintToken, parseScopes } from './services/tokens.js';

const USAGE = `Usage:
  npm run cli -- tenant create <slug> [--name "Acme Jobs"] [--sending-address followups@acme.example]
  npm run cli -- token <slug> [--scope "followups:read followups:write policy:admin tokens:issue"] [--sub <caller>] [--expires-in 365d]
  npm run cli -- token <slug> --candidate <candidate id> [--expires-in 1h]
  npm run cli -- tenant disable <slug>
  npm run cli -- tenant enable <slug>
  npm run cli -- migrate

Output is JSON on standard output: { "tenantId": "…", "token": "…" } for tenant and token
(with "expiresAt" too), { "tenantId": "…", "disabled": true|false } for disable and enable.
Server tokens live at most 400 days, candidate tokens at most 24 hours (default 1 hour).`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'sending-address': { type: 'string' },
      scope: { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string' },
      candidate: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) return void console.log(USAGE);

  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    await sealStoredSecrets(database.db, resolveEncryptionKey(config).keys);
    if (command === 'migrate') {
      console.log(JSON.stringify({ migrated: true, database: database.kind }));
      return;
    }
    const secret = resolveJwtSecret(config).secret;
    const expiresIn = values['expires-in'] ?? DEFAULT_TOKEN_LIFETIME;
    if (command === 'tenant' && rest[0] === 'create' && rest[1]) {
      const tenant = await createTenant(database.db, {
        slug: rest[1],
        name: values.name,
        sendingAddress: values['sending-address'],
        mailDomain: config.mailDomain,
      });
      const token = mintToken(secret, { tenantId: tenant.id, sub: values.sub ?? `cli:${tenant.slug}`, expiresIn });
      console.log(JSON.stringify({ tenantId: tenant.id, token }));
      return;
    }
    if (command === 'tenant' && (rest[0] === 'disable' || rest[0] === 'enable') && rest[1]) {
      const tenant = await setTenantEnabled(database.db, rest[1], rest[0] === 'enable', new Date());
      console.log(JSON.stringify({ tenantId: tenant.id, disabled: tenant.disabledAt !== null }));
      return;
    }
    if (command === 'token' && rest[0] && values.candidate !== undefined) {
      const tenant = await getTenantBySlug(database.db, rest[0]);
      const candidateId = values.candidate;
      const [candidate] = isId(candidateId) ? await findCandidatesByIds(database.db, tenant.id, [candidateId]) : [];
      if (!candidate || candidate.erased_at) throw new ServiceError('NOT_FOUND', `candidate ${candidateId} was not found in tenant ${tenant.slug}`);
      const minted = mintServerToken(secret, {
        tenantId: tenant.id,
        sub: values.sub ?? `cli:${tenant.slug}`,
        candidateId,
        scopes: values.scope !== undefined ? parseScopes(values.scope) : undefined,
        expiresIn: values['expires-in'] ?? DEFAULT_CANDIDATE_TOKEN_SECONDS,
      });
      console.log(JSON.stringify({ tenantId: tenant.id, token: minted.token, expiresAt: minted.expiresAt.toISOString() }));
      return;
    }
    if (command === 'token' && rest[0]) {
      const tenant = await getTenantBySlug(database.db, rest[0]);
      const scopes = values.scope !== undefined ? parseScopes(values.scope) : undefined;
      const token = mintToken(secret, { tenantId: tenant.id, sub: values.sub ?? `cli:${tenant.slug}`, scopes, expiresIn });
      console.log(JSON.stringify({ tenantId: tenant.id, token }));
      return;
    }
    throw new ServiceError('BAD_USER_INPUT', `unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ServiceError || error instanceof DataDirectoryLockedError) console.error(`error: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
