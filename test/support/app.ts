import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/schema.js';
import type { Scope } from '../../src/services/context.js';
import { createTenant } from '../../src/services/tenants.js';
import { mintToken } from '../../src/services/tokens.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256';

export interface TestTenant {
  id: string;
  slug: string;
  token: string;
}

export async function createTestApp(
  db: Kysely<Database>,
  options: { clock?: () => Date; webhooks?: { allowPrivate: boolean; requireHttps: boolean }; sandboxOutboxDir?: string } = {},
): Promise<FastifyInstance> {
  const app = await buildApp({
    db,
    jwtSecret: TEST_JWT_SECRET,
    logger: false,
    clock: options.clock,
    webhooks: options.webhooks,
    sandboxOutboxDir: options.sandboxOutboxDir,
  });
  await app.ready();
  return app;
}

let tenantCounter = 0;

export async function createTestTenant(
  db: Kysely<Database>,
  slug = `tenant-${process.pid}-${++tenantCounter}`,
  options: { sandbox?: boolean } = {},
): Promise<TestTenant> {
  const tenant = await createTenant(db, { slug, mailDomain: 'afterview.test', sandbox: options.sandbox });
  return { id: tenant.id, slug, token: mintToken(TEST_JWT_SECRET, { tenantId: tenant.id, sub: `user@${slug}` }) };
}

export function tokenFor(tenantId: string, options: { scopes?: Scope[]; sub?: string; expiresIn?: string | number } = {}): string {
  return mintToken(TEST_JWT_SECRET, { tenantId, sub: options.sub ?? 'someone', scopes: options.scopes, expiresIn: options.expiresIn });
}

export interface GraphQLResponse<T = any> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions: { code: string; field?: string } }>;
}

/** Posts a GraphQL operation the way a partner's client would. */
export async function gql<T = any>(
  app: FastifyInstance,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const response = await app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: JSON.stringify({ query, variables }),
  });
  const body = response.json();
  return { status: response.statusCode, data: body.data ?? null, errors: body.errors };
}

/** A realistic interview input; override what a test cares about. */
export function interviewInput(candidateId: string, overrides: Record<string, unknown> = {}) {
  return {
    candidateId,
    positionTitle: 'Senior Data Engineer',
    companyName: 'Northwind Analytics',
    startsAt: '2026-03-03T14:00:00Z',
    endsAt: '2026-03-03T15:00:00Z',
    timezone: 'Europe/Berlin',
    topics: ['streaming pipelines', 'data contracts'],
    interviewers: [
      { name: 'Grace Hopper', email: 'grace.hopper@northwind.example', title: 'Engineering Manager', isPrimaryContact: true },
      { name: 'Alan Turing', email: 'alan.turing@northwind.example', title: 'Staff Engineer' },
    ],
    ...overrides,
  };
}

export const CREATE_CANDIDATE = /* GraphQL */ `
  mutation ($input: CreateCandidateInput!) {
    createCandidate(input: $input) { id name email phone timezone consent consentAt }
  }
`;

export const SCHEDULE_INTERVIEW = /* GraphQL */ `
  mutation ($input: ScheduleInterviewInput!) {
    scheduleInterview(input: $input) {
      id positionTitle status startsAt endsAt timezone topics
      candidate { id name }
      company { id name followUpStyle preferredChannel }
      interviewers { id name email isPrimaryContact }
    }
  }
`;

export async function createCandidateVia(app: FastifyInstance, token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const result = await gql(app, token, CREATE_CANDIDATE, {
    input: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+14155550123', timezone: 'Europe/London', consent: true, ...overrides },
  });
  if (!result.data?.createCandidate) throw new Error(`createCandidate failed: ${JSON.stringify(result.errors)}`);
  return result.data.createCandidate.id;
}

export async function scheduleInterviewVia(app: FastifyInstance, token: string, candidateId: string, overrides: Record<string, unknown> = {}) {
  const result = await gql(app, token, SCHEDULE_INTERVIEW, { input: interviewInput(candidateId, overrides) });
  if (!result.data?.scheduleInterview) throw new Error(`scheduleInterview failed: ${JSON.stringify(result.errors)}`);
  return result.data.scheduleInterview;
}
