import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { notFound } from '../services/errors.js';
import { type FollowUpStepView, getPlansByInterviewIds, getStepsByPlanIds } from '../services/follow-up-plans.js';
import { getCompaniesByIds, getInterview, getInterviewersByInterviewIds } from '../services/interviews.js';
import { listMessagesPage, type MessageView } from '../services/messages.js';
import { servicesForCaller } from '../services/tenant-clock.js';
import { errorResponses, interviewSchema } from './openapi-schemas.js';
import { listOf, listQuerySchema, listSchema, pageRequestOf } from './rest-pages.js';
import { interviewJson } from './v1-interviews.js';

// Reading over REST what GraphQL reads: an interview with its plan and steps, and the messages.
// Enum values are spelled as in GraphQL (upper case).

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullable = <T extends object>(schema: T) => ({ ...schema, nullable: true });
const upper = (value: string | null) => value?.toUpperCase() ?? null;

const decisionSchema = {
  type: 'object',
  properties: { rule: { type: 'string' }, outcome: { type: 'string', enum: ['PASS', 'ADJUST', 'BLOCK'] }, detail: { type: 'string' } },
} as const;

const stepSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    channel: { type: 'string' },
    status: { type: 'string' },
    reason: nullable({ type: 'string', description: 'Why it waits, was held, skipped or cancelled' }),
    dueAt: dateTime,
    sentAt: nullable(dateTime),
    late: { type: 'boolean' },
    recipient: { type: 'object', properties: { name: { type: 'string' }, email: nullable({ type: 'string' }), phone: nullable({ type: 'string' }) } },
    decisions: { type: 'array', items: decisionSchema, description: 'The rule results behind its present state' },
  },
} as const;

const interviewDetailSchema = {
  ...interviewSchema,
  description: 'The interview, with its follow-up plan and every step of it (null when it has no plan)',
  properties: {
    ...interviewSchema.properties,
    followUpPlan: nullable({
      type: 'object',
      properties: {
        id: { type: 'string' },
        status: { type: 'string' },
        statusReason: nullable({ type: 'string' }),
        steps: { type: 'array', items: stepSchema },
      },
    }),
  },
} as const;

const mailbox = { type: 'object', properties: { name: { type: 'string' }, address: nullable({ type: 'string' }) } } as const;
const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    stepId: { type: 'string' },
    planId: { type: 'string' },
    kind: { type: 'string' },
    channel: { type: 'string' },
    status: { type: 'string' },
    to: mailbox,
    from: mailbox,
    replyTo: mailbox,
    subject: { type: 'string' },
    body: { type: 'string' },
    messageIdHeader: { type: 'string' },
    attempts: { type: 'integer' },
    lastError: nullable({ type: 'string' }),
    sentAt: nullable(dateTime),
    createdAt: dateTime,
  },
} as const;

function stepJson(step: FollowUpStepView) {
  return {
    id: step.id,
    kind: upper(step.kind),
    channel: upper(step.channel),
    status: upper(step.status),
    reason: step.reason,
    dueAt: step.dueAt.toISOString(),
    sentAt: step.sentAt?.toISOString() ?? null,
    late: step.late,
    recipient: { name: step.recipient.name, email: step.recipient.email, phone: step.recipient.phone },
    decisions: step.decisions.map((decision) => ({ ...decision, outcome: upper(decision.outcome) })),
  };
}

function messageJson(message: MessageView) {
  return {
    id: message.id,
    stepId: message.stepId,
    planId: message.planId,
    kind: upper(message.kind),
    channel: upper(message.channel),
    status: upper(message.status),
    to: message.to,
    from: message.from,
    replyTo: message.replyTo,
    subject: message.subject,
    body: message.body,
    messageIdHeader: message.messageIdHeader,
    attempts: message.attempts,
    lastError: message.lastError,
    sentAt: message.sentAt?.toISOString() ?? null,
    createdAt: message.createdAt.toISOString(),
  };
}

export async function v1ReadRoutes(app: FastifyInstance, options: { services: ServiceContext }): Promise<void> {
  const common = {
    onRequest: async (request: Parameters<FastifyInstance['authenticate']>[0]) => {
      await app.authenticate(request);
    },
    validatorCompiler: () => (value: unknown) => ({ value }),
  };

  app.get('/v1/interviews/:id', {
    ...common,
    schema: {
      summary: 'An interview with its plan and steps',
      tags: ['interviews'],
      security: [{ bearerAuth: [] }],
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
      response: { 200: interviewDetailSchema, ...errorResponses },
    },
  }, async (request) => {
    const caller = request.caller!;
    const services = await servicesForCaller(options.services, caller);
    const interview = await getInterview(services, caller, (request.params as { id: string }).id);
    const [[company], [interviewers], [plan]] = await Promise.all([
      getCompaniesByIds(services, caller, [interview.companyId]),
      getInterviewersByInterviewIds(services, caller, [interview.id]),
      getPlansByInterviewIds(services, caller, [interview.id]),
    ]);
    if (!company) throw notFound('company', interview.companyId);
    const steps = plan ? (await getStepsByPlanIds(services, caller, [plan.id]))[0]! : [];
    return {
      ...interviewJson({ interview, company, interviewers: interviewers ?? [], followUpPlanId: plan?.id ?? null }),
      followUpPlan: plan ? { id: plan.id, status: upper(plan.status), statusReason: plan.statusReason, steps: steps.map(stepJson) } : null,
    };
  });

  app.get('/v1/messages', {
    ...common,
    schema: {
      summary: 'List messages, oldest first',
      tags: ['messages'],
      security: [{ bearerAuth: [] }],
      querystring: { type: 'object', properties: { ...listQuerySchema, status: { type: 'string', description: 'Only messages in this status, e.g. SENT' } } },
      response: { 200: listSchema(messageSchema, 'A page of messages'), ...errorResponses },
    },
  }, async (request) => {
    const caller = request.caller!;
    const query = request.query as { limit?: string; starting_after?: string; status?: string };
    const page = await listMessagesPage(await servicesForCaller(options.services, caller), caller, pageRequestOf(query), { status: query.status ? [query.status] : null });
    return listOf(page, messageJson);
  });
}
