import type { FastifyInstance } from 'fastify';
import { type CandidateView, createCandidate, getCandidate, listCandidatesPage, updateCandidate } from '../services/candidates.js';
import type { ServiceContext } from '../services/context.js';
import { servicesForCaller } from '../services/tenant-clock.js';
import { errorResponses } from './openapi-schemas.js';
import { listOf, listQuerySchema, listSchema, pageRequestOf } from './rest-pages.js';

// Candidates over REST: the same services (and validation messages) as GraphQL's.

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableString = { type: 'string', nullable: true } as const;

export const candidateSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    phone: nullableString,
    timezone: nullableString,
    consent: { type: 'boolean' },
    consentAt: { ...dateTime, nullable: true },
    linkedinUrl: nullableString,
    signature: nullableString,
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

const candidateInput = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    email: { type: 'string', format: 'email' },
    phone: { type: 'string', description: 'E.164, e.g. +14155550123', nullable: true },
    timezone: { type: 'string', description: 'IANA zone, e.g. Europe/London', nullable: true },
    consent: { type: 'boolean', description: 'The candidate agreed to follow-ups written in their name' },
    linkedinUrl: nullableString,
    signature: nullableString,
  },
} as const;

export function candidateJson(candidate: CandidateView) {
  return {
    ...candidate,
    consentAt: candidate.consentAt?.toISOString() ?? null,
    createdAt: candidate.createdAt.toISOString(),
    updatedAt: candidate.updatedAt.toISOString(),
  };
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const described = (description: string) => ({ ...candidateSchema, description });

export async function v1CandidateRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  const common = {
    onRequest: async (request: Parameters<FastifyInstance['authenticate']>[0]) => {
      await app.authenticate(request);
    },
    // Bodies and queries are checked by the services (one set of messages, every problem named).
    validatorCompiler: () => (value: unknown) => ({ value }),
  };
  const services = (caller: NonNullable<Parameters<typeof servicesForCaller>[1]>) => servicesForCaller(options.services, caller);

  app.post('/v1/candidates', {
    ...common,
    schema: {
      summary: 'Create a candidate',
      tags: ['candidates'],
      security: [{ bearerAuth: [] }],
      body: { ...candidateInput, required: ['name', 'email', 'consent'] },
      response: { 201: described('The new candidate'), ...errorResponses },
    },
  }, async (request, reply) => {
    const caller = request.caller!;
    return reply.code(201).send(candidateJson(await createCandidate(await services(caller), caller, request.body)));
  });

  app.get('/v1/candidates', {
    ...common,
    schema: {
      summary: 'List candidates, oldest first',
      tags: ['candidates'],
      security: [{ bearerAuth: [] }],
      querystring: { type: 'object', properties: { ...listQuerySchema, email: { type: 'string', description: 'Only the candidate with this address' } } },
      response: { 200: listSchema(candidateSchema, 'A page of candidates'), ...errorResponses },
    },
  }, async (request) => {
    const caller = request.caller!;
    const query = request.query as { limit?: string; starting_after?: string; email?: string };
    const page = await listCandidatesPage(await services(caller), caller, pageRequestOf(query), { email: query.email });
    return listOf(page, candidateJson);
  });

  app.get('/v1/candidates/:id', {
    ...common,
    schema: { summary: 'A candidate', tags: ['candidates'], security: [{ bearerAuth: [] }], params: idParams, response: { 200: described('The candidate'), ...errorResponses } },
  }, async (request) => {
    const caller = request.caller!;
    return candidateJson(await getCandidate(await services(caller), caller, (request.params as { id: string }).id));
  });

  app.patch('/v1/candidates/:id', {
    ...common,
    schema: {
      summary: 'Change a candidate (absent fields stay, null clears)',
      tags: ['candidates'],
      security: [{ bearerAuth: [] }],
      params: idParams,
      body: candidateInput,
      response: { 200: described('The candidate as changed'), ...errorResponses },
    },
  }, async (request) => {
    const caller = request.caller!;
    return candidateJson(await updateCandidate(await services(caller), caller, (request.params as { id: string }).id, request.body));
  });
}
