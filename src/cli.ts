import { parseArgs } from 'node:util';
import { loadConfig, resolveJwtSecret } from './config.js';
import { DataDirectoryLockedError, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ServiceError } from './services/errors.js';
import { createTenant, getTenantBySlug } from './services/tenants.js';
import { DEFAULT_TOKEN_LIFETIME, mintToken, parseScopes } from './services/tokens.js';

const USAGE = `Usage:
  npm run cli -- tenant create <slug> [--name "Acme Jobs"] [--sending-address followups@acme.example]
  npm run cli -- token <slug> [--scope "followups:read followups:write policy:admin"] [--sub <caller>] [--expires-in 365d]
  npm run cli -- migrate

Output is JSON on standard output: { "tenantId": "…", "token": "…" } for tenant and token.`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'sending-address': { type: 'string' },
      scope: { type: 'string' },
      sub: { type: 'string' },
      'expires-in': { type: 'string', default: DEFAULT_TOKEN_LIFETIME },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) return void console.log(USAGE);

  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database.db);
    if (command === 'migrate') {
      console.log(JSON.stringify({ migrated: true, database: database.kind }));
      return;
    }
    const secret = resolveJwtSecret(config).secret;
    const expiresIn = values['expires-in'];
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
