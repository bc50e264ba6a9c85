import type { FastifyInstance } from 'fastify';
import { requireScope, type ServiceContext } from '../services/context.js';
import { HTTP_STATUS_BY_CODE, ServiceError, unavailableOrUndefined } from '../services/errors.js';
import { type ScheduledInterview, scheduleInterview } from '../services/interviews.js';
import { servicesForCaller } from '../services/tenant-clock.js';
import { errorBody } from './errors.js';
import { describedBulkResultSchema, describedInterviewSchema, errorResponses, scheduleInterviewInputSchema } from './openapi-schemas.js';

export const MAX_BULK_ITEMS = 100;

const upper = (value: string | null) => value?.toUpperCase() ?? null;

export function interviewJson({ interview, company, interviewers, followUpPlanId }: ScheduledInterview) {
  return {
    id: interview.id,
    followUpPlanId,
    candidateId: interview.candidateId,
    company: { ...company, preferredChannel: upper(company.preferredChannel), followUpStyle: upper(company.followUpStyle) },
    positionTitle: interview.positionTitle,
    startsAt: interview.startsAt.toISOString(),
    endsAt: interview.endsAt.toISOString(),
    timezone: interview.timezone,
    channel: upper(interview.channel),
    decisionExpectedBy: interview.decisionExpectedBy?.toISOString() ?? null,
    callBackExpectedBy: interview.callBackExpectedBy?.toISOString() ?? null,
    topics: interview.topics,
    highlights: interview.highlights,
    leftOut: interview.leftOut,
    resourceUrl: interview.resourceUrl,
    status: upper(interview.status),
    interviewers: interviewers.map(({ interviewId: _interviewId, ...interviewer }) => ({
      ...interviewer,
      preferredChannel: upper(interviewer.preferredChannel),
    })),
    createdAt: interview.createdAt.toISOString(),
  };
}

export async function v1InterviewRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  app.post(
    '/v1/interviews',
    {
      onRequest: async (request) => {
        await app.authenticate(request);
      },
      // The body is checked by the same schema as GraphQL's scheduleInterview (one set of
      // messages); the JSON Schema here only documents it.
      validatorCompiler: () => (value) => ({ value }),
      schema: {
        summary: 'Schedule one interview, or many at once',
        description:
          'Send one interview object, or an array of up to 100. One object answers 201 with the interview. ' +
          'An array answers 207 with a result per item, in order; each item is stored or refused on its own, ' +
          'so the valid ones are kept even when others fail.',
        tags: ['interviews'],
        security: [{ bearerAuth: [] }],
        body: { oneOf: [scheduleInterviewInputSchema, { type: 'array', maxItems: MAX_BULK_ITEMS, items: scheduleInterviewInputSchema }] },
        response: { 201: describedInterviewSchema, 207: describedBulkResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const caller = request.caller!;
      requireScope(caller, 'followups:write');
      const services = await servicesForCaller(options.services, caller);
      const body = request.body;
      if (!Array.isArray(body)) {
        const scheduled = await scheduleInterview(services, caller, body);
        return reply.code(201).send(interviewJson(scheduled));
      }
      if (body.length === 0 || body.length > MAX_BULK_ITEMS) {
        throw new ServiceError('BAD_USER_INPUT', `a bulk request carries 1 to ${MAX_BULK_ITEMS} interviews`, 'body');
      }
      const results = [];
      for (const [index, item] of body.entries()) {
        try {
          results.push({ index, status: 201, interview: interviewJson(await scheduleInterview(services, caller, item)) });
        } catch (error) {
          // Items already stored stay stored; an outage midway is reported per item, so the
          // partner retries exactly the ones that answer 503.
          const known = error instanceof ServiceError ? error : unavailableOrUndefined(error);
          if (!known || known.code === 'INTERNAL') throw error;
          results.push({ index, status: HTTP_STATUS_BY_CODE[known.code], error: errorBody(known) });
        }
      }
      return reply.code(207).send({ results });
    },
  );
}
