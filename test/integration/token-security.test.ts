import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { claimDueSteps } from '../../src/db/follow-up-plans.js';
import { serverKid } from '../../src/security/jwt-keys.js';
import { ACCESS_TTL_MS } from '../../src/security/tenant-access.js';
import { setTenantEnabled } from '../../src/services/tenants.js';
import { mintToken } from '../../src/services/tokens.js';
import { createCandidateVia, createTestTenant, gql, scheduleInterviewVia, TEST_JWT_SECRET, type TestTenant } from '../support/app.js';
import { openTestDatabase, type TestDatabase, testDatabaseKinds } from '../support/databases.js';

// Server tokens (the JWT_SECRET ring, exp/iat/jti, lifetimes), revocation and disabled tenants
// as two replicas see them, and tokens partners sign with their own registered keys. Each
// replica's access cache runs on a clock the test moves, so "within 5 s on every replica" is
// shown without waiting: the TTL (2 s) is the most a replica can lag.

const OLD_SECRET = 'an-older-secret-still-in-the-ring';
const RING = `${TEST_JWT_SECRET},${OLD_SECRET}`;
const ME = `query { candidates { edges { cursor } } }`;

describe.each(testDatabaseKinds())('token security on %s', (kind) => {
  let database: TestDatabase;
  let replicaA: FastifyInstance;
  let replicaB: FastifyInstance;
  let cacheNow = 0;
  let tenant: TestTenant;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    const options = { db: database.db, jwtSecret: RING, logger: false as const, tenantAccess: { now: () => cacheNow } };
    replicaA = await buildApp(options);
    replicaB = await buildApp(options);
    tenant = await createTestTenant(database.db);
  });
  afterAll(async () => {
    await replicaA?.close();
    await replicaB?.close();
    await database?.close();
  });

  const status = async (app: FastifyInstance, token: string) => (await gql(app, token, ME)).status;
  /** Moves every replica's cache past its TTL: what they know is at most this old. */
  const afterTtl = () => {
    cacheNow += ACCESS_TTL_MS;
  };
  /** The signer writes iat itself: from the payload's own, or none at all when it has none. */
  const timestamp = (payload: Record<string, unknown>) => (typeof payload.iat === 'number' ? { clockTimestamp: payload.iat * 1000 } : { noTimestamp: true });
  const hs256 = (payload: Record<string, unknown>, key = TEST_JWT_SECRET, kid: string | null = serverKid(key)) =>
    createSigner({ key, algorithm: 'HS256', ...(kid ? { kid } : {}), ...timestamp(payload) })(payload);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({ tenant: tenant.id, sub: 'x', scope: 'followups:read', iat: nowSeconds(), exp: nowSeconds() + 600, jti: randomUUID(), ...extra });

  describe('server tokens', () => {
    it('carry kid (a hash, not the secret), exp, iat and jti', () => {
      const [header, payload] = tenant.token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      expect(header).toMatchObject({ alg: 'HS256', kid: serverKid(TEST_JWT_SECRET) });
      expect(header.kid).not.toContain(TEST_JWT_SECRET.slice(0, 8));
      expect(payload).toMatchObject({ tenant: tenant.id, scope: 'followups:read followups:write policy:admin tokens:issue' });
      expect(typeof payload.jti).toBe('string');
      expect(payload.exp - payload.iat).toBe(365 * 86_400);
    });

    it('every secret of the ring verifies; the first signs', async () => {
      expect(await status(replicaA, mintToken(OLD_SECRET, { tenantId: tenant.id, sub: 'x' }))).toBe(200);
      expect(await status(replicaA, mintToken(RING, { tenantId: tenant.id, sub: 'x' }))).toBe(200);
      expect(JSON.parse(Buffer.from(mintToken(RING, { tenantId: tenant.id, sub: 'x' }).split('.')[0]!, 'base64url').toString()).kid).toBe(serverKid(TEST_JWT_SECRET));
      expect(await status(replicaA, mintToken('a-secret-that-left-the-ring-long-ago', { tenantId: tenant.id, sub: 'x' }))).toBe(401);
    });

    it.each([
      ['no kid', () => hs256(claims(), TEST_JWT_SECRET, null), /kid/],
      ['no exp', () => hs256(claims({ exp: undefined })), /exp, iat and jti/],
      ['no iat', () => hs256(claims({ iat: undefined })), /exp, iat and jti/],
      ['no jti', () => hs256(claims({ jti: undefined })), /exp, iat and jti/],
      ['a lifetime over 400 days', () => hs256(claims({ exp: nowSeconds() + 401 * 86_400 })), /400 days/],
      ['a candidate token living over 24 h', () => hs256(claims({ candidate: tenant.id, exp: nowSeconds() + 86_400 + 60 })), /24 hours/],
      ['an iat in the future', () => hs256(claims({ iat: nowSeconds() + 3_600 })), /future/],
      ['a kid that names no secret', () => hs256(claims(), TEST_JWT_SECRET, 'av-unknown'), /does not know/],
    ])('refuses %s with 401', async (_name, token, message) => {
      const result = await gql(replicaA, token(), ME);
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.message).toMatch(message);
    });

    it('minting refuses lifetimes beyond the caps', () => {
      expect(() => mintToken(RING, { tenantId: tenant.id, sub: 'x', expiresIn: '401d' })).toThrow(/400 days/);
      expect(() => mintToken(RING, { tenantId: tenant.id, sub: 'x', candidateId: tenant.id, expiresIn: '25h' })).toThrow(/24 hours/);
    });
  });

  describe('revocation', () => {
    it('revokeToken refuses that token on this replica at once and on every other within the TTL', async () => {
      const own = await createTestTenant(database.db);
      const victim = mintToken(RING, { tenantId: own.id, sub: 'leaked' });
      expect(await status(replicaA, victim)).toBe(200);
      expect(await status(replicaB, victim)).toBe(200);
      const jti = JSON.parse(Buffer.from(victim.split('.')[1]!, 'base64url').toString()).jti;
      const revoked = await gql(replicaA, own.token, `mutation ($jti: String!) { revokeToken(jti: $jti) { jti revokedAt } }`, { jti });
      expect(revoked.data.revokeToken.jti).toBe(jti);
      expect(await status(replicaA, victim)).toBe(401);
      afterTtl();
      expect((await gql(replicaB, victim, ME)).errors?.[0]?.message).toBe('the token has been revoked');
      // Other tokens of the tenant still work.
      expect(await status(replicaB, own.token)).toBe(200);
    });

    it('revokeTokens refuses every token issued before the instant, and none minted after', async () => {
      const own = await createTestTenant(database.db);
      const admin = mintToken(RING, { tenantId: own.id, sub: 'admin' });
      const old = mintToken(RING, { tenantId: own.id, sub: 'old' });
      expect(await status(replicaB, old)).toBe(200);
      const cut = new Date((nowSeconds() + 1) * 1000);
      const future = await gql(replicaA, admin, `mutation ($at: DateTime!) { revokeTokens(issuedBefore: $at) { issuedBefore } }`, { at: new Date(Date.now() + 3_600_000).toISOString() });
      expect(future.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'issuedBefore' });
      const revoked = await gql(replicaA, admin, `mutation ($at: DateTime!) { revokeTokens(issuedBefore: $at) { issuedBefore } }`, { at: cut.toISOString() });
      expect(revoked.errors).toBeUndefined();
      afterTtl();
      expect(await status(replicaA, old)).toBe(401);
      expect(await status(replicaB, old)).toBe(401);
      expect(await status(replicaB, admin)).toBe(401);
      const fresh = hs256({ tenant: own.id, sub: 'new', scope: 'followups:read', iat: cut.getTime() / 1000, exp: cut.getTime() / 1000 + 600, jti: randomUUID() });
      expect(await status(replicaB, fresh)).toBe(200);
    });

    it('revoking needs tokens:issue', async () => {
      const limited = mintToken(RING, { tenantId: tenant.id, sub: 'x', scopes: ['followups:read', 'followups:write', 'policy:admin'] });
      const result = await gql(replicaA, limited, `mutation { revokeToken(jti: "x") { jti } }`);
      expect(result.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    });
  });

  describe('a disabled tenant', () => {
    it('is refused on every replica within the TTL, its steps wait, and it comes back when enabled', async () => {
      const own = await createTestTenant(database.db);
      await gql(replicaA, own.token, `mutation { updatePolicy(document: { businessHours: "always", thankYou: { delayMinutes: 0 } }) { version } }`);
      const candidate = await createCandidateVia(replicaA, own.token);
      const starts = new Date(Date.now() + 86_400_000);
      await scheduleInterviewVia(replicaA, own.token, candidate, { startsAt: starts.toISOString(), endsAt: new Date(starts.getTime() + 3_600_000).toISOString() });
      // What a worker would claim a month from now (rolled back: nothing is changed).
      const dueOf = async () =>
        database.db
          .transaction()
          .execute(async (trx) => {
            const claimed = (await claimDueSteps(trx, new Date(Date.now() + 30 * 86_400_000), 10_000)).steps.filter((step) => step.tenant_id === own.id).length;
            throw Object.assign(new Error('rollback'), { claimed });
          })
          .catch((error: { claimed?: number }) => error.claimed ?? -1);
      expect(await dueOf()).toBeGreaterThan(0);

      await setTenantEnabled(database.db, own.slug, false, new Date());
      expect(await dueOf()).toBe(0);
      afterTtl();
      for (const app of [replicaA, replicaB]) {
        const refused = await gql(app, own.token, ME);
        expect(refused.status).toBe(401);
        expect(refused.errors?.[0]?.message).toBe('the tenant is disabled');
      }
      expect(await status(replicaA, tenant.token)).toBe(200);

      await setTenantEnabled(database.db, own.slug, true, new Date());
      afterTtl();
      expect(await status(replicaA, own.token)).toBe(200);
      expect(await status(replicaB, own.token)).toBe(200);
      expect(await dueOf()).toBeGreaterThan(0);
    });
  });

  describe('partner-signed tokens', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ecPublic = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsaPublic = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const signWith = (algorithm: 'ES256' | 'RS256' | 'HS256', key: unknown, kid: string, extra: Record<string, unknown> = {}) =>
      createSigner({ key: key as string, algorithm, kid, ...timestamp(claims(extra)) })(claims(extra));
    const register = (kid: string, publicKeyPem: string, token = tenant.token) =>
      gql(replicaA, token, `mutation ($kid: String!, $pem: String!) { registerSigningKey(kid: $kid, publicKeyPem: $pem) { kid algorithm createdAt } }`, { kid, pem: publicKeyPem });

    beforeAll(async () => {
      expect((await register('partner-ec', ecPublic)).data.registerSigningKey).toMatchObject({ kid: 'partner-ec', algorithm: 'ES256' });
      expect((await register('partner-rsa', rsaPublic)).data.registerSigningKey).toMatchObject({ kid: 'partner-rsa', algorithm: 'RS256' });
    });

    it('ES256 and RS256 tokens signed with a registered key are accepted, with their claims', async () => {
      expect(await status(replicaA, signWith('ES256', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec'))).toBe(200);
      afterTtl();
      expect(await status(replicaB, signWith('RS256', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-rsa'))).toBe(200);
      const keys = await gql(replicaA, tenant.token, `{ signingKeys { kid algorithm } }`);
      expect(keys.data.signingKeys).toEqual([
        { kid: 'partner-ec', algorithm: 'ES256' },
        { kid: 'partner-rsa', algorithm: 'RS256' },
      ]);
    });

    it.each([
      ['an HS256 token whose kid names a public key (algorithm confusion)', () => signWith('HS256', ecPublic, 'partner-ec'), /algorithm/],
      ['an RS256 token under the EC key’s kid', () => signWith('RS256', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec'), /algorithm/],
      ['an exp more than 24 h ahead', () => signWith('ES256', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec', { exp: nowSeconds() + 2 * 86_400 }), /24 h/],
      ['a kid the tenant never registered', () => signWith('ES256', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'nobody'), /does not know/],
      ['another key signing under a registered kid', () => signWith('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec'), /malformed|not signed/],
      ['no jti', () => signWith('ES256', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec', { jti: undefined }), /jti/],
    ])('refuses %s with 401', async (_name, token, message) => {
      const result = await gql(replicaA, token(), ME);
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.message).toMatch(message);
    });

    it('registration refuses private keys, weak keys, odd kids and duplicates', async () => {
      const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect((await register('k-private', privatePem)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'publicKeyPem' });
      expect((await register('k-garbage', 'not a key')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'publicKeyPem' });
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect((await register('k-small', small)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'publicKeyPem' });
      expect((await register('av-mine', ecPublic)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kid' });
      expect((await register('has space', ecPublic)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kid' });
      expect((await register('partner-ec', ecPublic)).errors?.[0]?.extensions.code).toBe('CONFLICT');
    });

    it('a key of one tenant signs nothing for another', async () => {
      const other = await createTestTenant(database.db);
      const token = createSigner({ key: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'ES256', kid: 'partner-ec', clockTimestamp: Date.now() })(claims({ tenant: other.id }));
      expect(await status(replicaA, token)).toBe(401);
    });

    it('after deleteSigningKey its tokens are refused on every replica within the TTL', async () => {
      const token = signWith('ES256', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'partner-ec');
      expect(await status(replicaB, token)).toBe(200);
      const deleted = await gql(replicaA, tenant.token, `mutation { deleteSigningKey(kid: "partner-ec") { kid } }`);
      expect(deleted.data.deleteSigningKey.kid).toBe('partner-ec');
      expect(await status(replicaA, token)).toBe(401);
      afterTtl();
      expect(await status(replicaB, token)).toBe(401);
      expect((await gql(replicaA, tenant.token, `mutation { deleteSigningKey(kid: "partner-ec") { kid } }`)).errors?.[0]?.extensions.code).toBe('NOT_FOUND');
    });
  });
});
