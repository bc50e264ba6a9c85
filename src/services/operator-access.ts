import fs from 'node:fs';
import path from 'node:path';
import { mintToken } from './tokens.js';

// The operator's way in while the service runs on the embedded database: PGlite allows one
// process at a time, so the CLI cannot open the data directory and asks the running service
// instead. The service writes where it listens and an operator token (the admin scope) into the
// data directory, readable by its owner only: whoever may read the data may run the service.

/** Operator tokens name no tenant of their own: every tenant-scoped query sees nothing with them. */
export const OPERATOR_TENANT_ID = '00000000-0000-0000-0000-000000000000';
export const OPERATOR_ACCESS_FILE = 'operator.json';
const OPERATOR_TOKEN_LIFETIME = '30d';

export interface OperatorAccess {
  url: string;
  token: string;
}

export function isOperatorToken(claims: { tenant: string; scope?: unknown }): boolean {
  return claims.tenant === OPERATOR_TENANT_ID && typeof claims.scope === 'string' && claims.scope.split(/\s+/).includes('admin');
}

export function mintOperatorToken(secret: string): string {
  return mintToken(secret, { tenantId: OPERATOR_TENANT_ID, sub: 'operator', scopes: ['admin'], expiresIn: OPERATOR_TOKEN_LIFETIME });
}

/** Written at start-up (mode 0600), removed at shutdown. */
export function writeOperatorAccess(dataDir: string, access: OperatorAccess): string {
  const file = path.join(dataDir, OPERATOR_ACCESS_FILE);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, JSON.stringify(access) + '\n', { mode: 0o600, flag: 'wx' });
  return file;
}

export function removeOperatorAccess(dataDir: string): void {
  fs.rmSync(path.join(dataDir, OPERATOR_ACCESS_FILE), { force: true });
}

export function readOperatorAccess(dataDir: string): OperatorAccess | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dataDir, OPERATOR_ACCESS_FILE), 'utf8')) as Partial<OperatorAccess>;
    return typeof parsed.url === 'string' && typeof parsed.token === 'string' ? { url: parsed.url, token: parsed.token } : undefined;
  } catch {
    return undefined;
  }
}
