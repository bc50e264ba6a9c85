import { parseArgs } from 'node:util';
import { createTenantThroughService, findTenantThroughService } from './cli-operator-client.js';
import { type Config, loadConfig, resolveEncryptionKey, resolveJwtSecret } from './config.js';
import { findCandidatesByIds } from './db/candidates.js';
import { DataDirectoryLockedError, type DatabaseHandle, openDatabase } from './db/database.js';
import { isId } from './db/ids.js';
import { migrateToLatest } from './db/migrate.js';
import { sealStoredSecrets } from './security/seal-stored-secrets.js';
import { ServiceError } from './services/errors.js';
import { readOperatorAccess } from './services/operator-access.js';
import { createTenant, getTenantBySlug, setTenantEnabled, type TenantView } from './services/tenants.js';
import { DEFAULT_CANDIDATE_TOKEN_SECONDS, DEFAULT_TOKEN_LIFETIME, mintServerToken, mintToken, parseScopes } from './services/tokens.js';

const USAGE = `Usage:
  npm run cli -- tenant create <slug> [--sandbox] [--name "Acme Jobs"] [--sending-address followups@acme.example]
  npm run cli -- token <slug> [--scope "followups:read followups:write policy:admin tokens:issue"] [--sub <caller>] [--expires-in 365d] [--plain]
  npm run cli -- token <slug> --candidate <candidate id> [--expires-in 1h] [--plain]
  npm run cli -- tenant disable <slug>
  npm run cli -- tenant enable <slug>
  npm run cli -- migrate

Output is JSON on standard output: { "tenantId": "…", "token": "…" } for tenant and token
(with "expiresAt" too for candidate tokens), { "tenantId": "…", "disabled": true|false } for
disable and enable. With --plain, token prints the token alone
(TOKEN=$(npm run -s cli -- token dev --plain)).
Server tokens live at most 400 days, candidate tokens at most 24 hours (default 1 hour).
--sandbox makes a sandbox: its mail is kept, never sent, and its time is a test clock.
While the service runs on the embedded database, tenant create and token <slug> go through the
service; the other commands need the service stopped.`;

/** Where tenants are found and made: the database, or the running service that holds it. */
interface TenantDirectory {
  create(input: { slug: string; name?: string | undefined; sendingAddress?: string | undefined; sandbox: boolean }): Promise<TenantView>;
  bySlug(slug: string): Promise<TenantView>;
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'sending-address': { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      plain: { type: 'boolean', default: false },
      scope: { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string' },
      candidate: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help) return void console.log(USAGE);
  if (!command) {
    // Asked for nothing: say what can be asked, and fail, so a script notices.
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }

  const config = loadConfig();
  const opened = await openOrReachService(config, command);
  try {
    if (command === 'migrate') {
      console.log(JSON.stringify({ migrated: true, database: opened.database!.kind }));
      return;
    }
    const secret = resolveJwtSecret(config).secret;
    const expiresIn = values['expires-in'] ?? DEFAULT_TOKEN_LIFETIME;
    if (command === 'tenant' && rest[0] === 'create' && rest[1]) {
      const tenant = await opened.tenants.create({
        slug: rest[1],
        name: values.name,
        sendingAddress: values['sending-address'],
        sandbox: values.sandbox,
      });
      const token = mintToken(secret, { tenantId: tenant.id, sub: values.sub ?? `cli:${tenant.slug}`, expiresIn });
      console.log(JSON.stringify({ tenantId: tenant.id, token, ...(tenant.sandbox ? { sandbox: true } : {}) }));
      return;
    }
    if (command === 'tenant' && (rest[0] === 'disable' || rest[0] === 'enable') && rest[1]) {
      const tenant = await setTenantEnabled(databaseOf(opened).db, rest[1], rest[0] === 'enable', new Date());
      console.log(JSON.stringify({ tenantId: tenant.id, disabled: tenant.disabledAt !== null }));
      return;
    }
    if (command === 'token' && rest[0] && values.candidate !== undefined) {
      const db = databaseOf(opened).db;
      const tenant = await getTenantBySlug(db, rest[0]);
      const candidateId = values.candidate;
      const [candidate] = isId(candidateId) ? await findCandidatesByIds(db, tenant.id, [candidateId]) : [];
      if (!candidate || candidate.erased_at) throw new ServiceError('NOT_FOUND', `candidate ${candidateId} was not found in tenant ${tenant.slug}`);
      const minted = mintServerToken(secret, {
        tenantId: tenant.id,
        sub: values.sub ?? `cli:${tenant.slug}`,
        candidateId,
        scopes: values.scope !== undefined ? parseScopes(values.scope) : undefined,
        expiresIn: values['expires-in'] ?? DEFAULT_CANDIDATE_TOKEN_SECONDS,
      });
      console.log(values.plain ? minted.token : JSON.stringify({ tenantId: tenant.id, token: minted.token, expiresAt: minted.expiresAt.toISOString() }));
      return;
    }
    if (command === 'token' && rest[0]) {
      const tenant = await opened.tenants.bySlug(rest[0]);
      const scopes = values.scope !== undefined ? parseScopes(values.scope) : undefined;
      const token = mintToken(secret, { tenantId: tenant.id, sub: values.sub ?? `cli:${tenant.slug}`, scopes, expiresIn });
      console.log(values.plain ? token : JSON.stringify({ tenantId: tenant.id, token }));
      return;
    }
    throw new ServiceError('BAD_USER_INPUT', `unknown command: ${positionals.join(' ')}\n\n${USAGE}`);
  } finally {
    await opened.database?.close();
  }
}

/**
 * Opens the database (and migrates it); when the embedded one is held by a running service,
 * tenants are managed through that service instead, with the operator token it left behind.
 */
async function openOrReachService(config: Config, command: string): Promise<{ database?: DatabaseHandle; tenants: TenantDirectory }> {
  try {
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      await migrateToLatest(database.db);
      await sealStoredSecrets(database.db, resolveEncryptionKey(config).keys);
    } catch (error) {
      await database.close();
      throw error;
    }
    return {
      database,
      tenants: {
        create: (input) => createTenant(database.db, { ...input, mailDomain: config.mailDomain }),
        bySlug: (slug) => getTenantBySlug(database.db, slug),
      },
    };
  } catch (error) {
    const access = error instanceof DataDirectoryLockedError && command !== 'migrate' ? readOperatorAccess(config.dataDir) : undefined;
    if (!access) throw error;
    return {
      tenants: {
        create: (input) => createTenantThroughService(access, input),
        bySlug: (slug) => findTenantThroughService(access, slug),
      },
    };
  }
}

/** Commands that only the database can answer: with the service holding it, stop the service first. */
function databaseOf(opened: { database?: DatabaseHandle }): DatabaseHandle {
  if (!opened.database) throw new ServiceError('CONFLICT', 'the service holds the embedded database: stop it first for this command');
  return opened.database;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ServiceError || error instanceof DataDirectoryLockedError) console.error(`error: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
