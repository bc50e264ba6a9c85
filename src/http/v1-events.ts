import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { recordOutcome, recordReply } from '../services/follow-up-events.js';
import { servicesForCaller } from '../services/tenant-clock.js';
import { errorResponses } from './openapi-schemas.js';

// Inbound events for systems that do not speak GraphQL: the same services as recordReply and
// recordOutcome, the same validation and messages.

const dateTime = { type: 'string', format: 'date-time' } as const;

const replyInput = {
  type: 'object',
  required: ['interviewId', 'fromEmail'],
  properties: {
    interviewId: { type: 'string' },
    fromEmail: {
      type: 'string',
      format: 'email',
      description: "Who replied; an interviewer's address or another address at an interviewer's company domain counts as the employer side (S1); mailer-daemon, postmaster and no-reply never do",
    },
    fromName: { type: 'string' },
    receivedAt: { ...dateTime, description: 'Default: now' },
    raisesConcerns: { type: 'boolean', description: 'S2: adds an answer for the candidate to write, held for review' },
    concerns: { type: 'string', description: 'What the employer raised; implies raisesConcerns' },
    fromEmployer: { type: 'boolean', description: 'The partner vouches that the sender speaks for the employer (S1)' },
  },
} as const;

const replyOutput = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    interviewId: { type: 'string' },
    fromEmail: { type: 'string' },
    fromName: { type: 'string', nullable: true },
    receivedAt: dateTime,
    raisesConcerns: { type: 'boolean' },
    fromEmployer: { type: 'boolean' },
    concerns: { type: 'string', nullable: true },
    cancelledStepIds: { type: 'array', items: { type: 'string' } },
    respondToConcernsStepId: { type: 'string', nullable: true },
  },
} as const;

const outcomeInput = {
  type: 'object',
  required: ['interviewId', 'outcome'],
  properties: {
    interviewId: { type: 'string' },
    outcome: { type: 'string', enum: ['OFFER', 'HIRED', 'REJECTED', 'WITHDRAWN'] },
  },
} as const;

const outcomeOutput = {
  type: 'object',
  properties: {
    interviewId: { type: 'string' },
    outcome: { type: 'string' },
    outcomeAt: dateTime,
    status: { type: 'string' },
  },
} as const;

const errors = errorResponses;

export async function v1EventRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  app.addHook('onRequest', async (request) => {
    await app.authenticate(request);
  });

  app.post(
    '/v1/replies',
    {
      validatorCompiler: () => (value) => ({ value }),
      schema: {
        summary: 'Record a reply to the candidate’s follow-ups',
        description: 'Same effect as the recordReply mutation: a reply from the employer side stops every pending check-in (S1); one raising concerns adds an answer for the candidate to write (S2).',
        tags: ['events'],
        security: [{ bearerAuth: [] }],
        body: replyInput,
        response: { 201: { ...replyOutput, description: 'The reply, and the steps it stopped' }, ...errors },
      },
    },
    async (request, reply) => {
      const recorded = await recordReply(await servicesForCaller(options.services, request.caller!), request.caller!, request.body);
      return reply.code(201).send({ ...recorded, receivedAt: recorded.receivedAt.toISOString() });
    },
  );

  app.post(
    '/v1/outcomes',
    {
      validatorCompiler: () => (value) => ({ value }),
      schema: {
        summary: 'Record the outcome of an interview',
        description: 'Same effect as the recordOutcome mutation (S3).',
        tags: ['events'],
        security: [{ bearerAuth: [] }],
        body: outcomeInput,
        response: { 200: { ...outcomeOutput, description: 'The interview with its outcome' }, ...errors },
      },
    },
    async (request) => {
      const interview = await recordOutcome(await servicesForCaller(options.services, request.caller!), request.caller!, request.body);
      return {
        interviewId: interview.id,
        outcome: interview.outcome?.toUpperCase() ?? null,
        outcomeAt: interview.outcomeAt?.toISOString() ?? null,
        status: interview.status.toUpperCase(),
      };
    },
  );
}
