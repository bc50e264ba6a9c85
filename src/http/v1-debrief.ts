import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { updateInterview } from '../services/debrief.js';
import { getCompaniesByIds, getInterviewersByInterviewIds } from '../services/interviews.js';
import { getPlansByInterviewIds } from '../services/follow-up-plans.js';
import { interviewJson } from './v1-interviews.js';
import { describedInterviewSchema, errorResponses, updateInterviewInputSchema } from './openapi-schemas.js';
import { servicesForCaller } from '../services/tenant-clock.js';

// PATCH /v1/interviews/{id}: the debrief over REST, with updateInterview's effects.
export async function v1DebriefRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  app.patch(
    '/v1/interviews/:id',
    {
      onRequest: async (request) => {
        await app.authenticate(request);
      },
      // Checked by the same schema as GraphQL's updateInterview; the JSON Schema documents it.
      validatorCompiler: () => (value) => ({ value }),
      schema: {
        summary: 'Record the debrief of an interview',
        description:
          'What the candidate learned in the interview. Every field is optional: absent leaves it unchanged, null clears it. ' +
          'Unsent follow-ups are timed afresh (a new decision date moves the check-in).',
        tags: ['interviews'],
        security: [{ bearerAuth: [] }],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        body: updateInterviewInputSchema,
        response: { 200: describedInterviewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const caller = request.caller!;
      const { id } = request.params as { id: string };
      // The caller's tenant's view of the services: a sandbox re-times its steps by its test clock.
      const services = await servicesForCaller(options.services, caller);
      const interview = await updateInterview(services, caller, id, request.body);
      const [[company], [interviewers], [plan]] = await Promise.all([
        getCompaniesByIds(services, caller, [interview.companyId]),
        getInterviewersByInterviewIds(services, caller, [interview.id]),
        getPlansByInterviewIds(services, caller, [interview.id]),
      ]);
      return interviewJson({ interview, company: company!, interviewers: interviewers ?? [], followUpPlanId: plan?.id ?? null });
    },
  );
}
