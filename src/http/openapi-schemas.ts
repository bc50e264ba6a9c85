// JSON Schemas that document the REST surface at /docs. Requests are checked by the same zod
// schemas GraphQL uses (src/services/inputs.ts), so these describe rather than enforce.

const channel = { type: 'string', enum: ['EMAIL', 'SMS', 'LINKEDIN', 'PHONE', 'HANDWRITTEN'] } as const;
const followUpStyle = { type: 'string', enum: ['STANDARD', 'THANK_YOU_ONLY', 'NONE'] } as const;
const dateTime = { type: 'string', format: 'date-time', description: 'ISO-8601 with an offset' } as const;
const nullable = <T extends object>(schema: T) => ({ ...schema, nullable: true });

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', enum: ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'INTERNAL', 'UNAVAILABLE'] },
    message: { type: 'string' },
    field: { type: 'string', description: 'The offending field, dotted (e.g. interviewers.0.email)' },
    problems: {
      type: 'array',
      description: 'Every problem found in the input, each naming its field (the first is field and message)',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

export const interviewerInputSchema = {
  type: 'object',
  required: ['name'],
  description: 'Needs an email or a phone to be reachable.',
  properties: {
    name: { type: 'string', maxLength: 200 },
    email: { type: 'string', format: 'email' },
    phone: { type: 'string', description: 'E.164, e.g. +14155550123' },
    title: { type: 'string', maxLength: 200 },
    timezone: { type: 'string', description: 'IANA zone, e.g. Europe/Berlin' },
    preferredChannel: channel,
    isPrimaryContact: { type: 'boolean' },
    topics: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 200 }, description: 'What this person discussed with the candidate' },
    honorific: { type: 'string', description: 'A courtesy title such as Dr. or Ms.' },
  },
} as const;

export const scheduleInterviewInputSchema = {
  type: 'object',
  required: ['candidateId', 'positionTitle', 'companyName', 'startsAt', 'endsAt', 'timezone', 'interviewers'],
  properties: {
    candidateId: { type: 'string' },
    positionTitle: { type: 'string', maxLength: 200 },
    companyName: { type: 'string', maxLength: 200 },
    companyPreferredChannel: channel,
    companyFollowUpStyle: followUpStyle,
    companyTimezone: { type: 'string' },
    startsAt: dateTime,
    endsAt: { ...dateTime, description: 'Later than startsAt' },
    timezone: { type: 'string', description: 'IANA zone of the interview' },
    channel: { ...channel, description: 'The channel the interview was arranged through' },
    decisionExpectedBy: dateTime,
    callBackExpectedBy: dateTime,
    topics: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 200 } },
    interviewers: { type: 'array', minItems: 1, maxItems: 20, items: interviewerInputSchema },
  },
} as const;

const interviewerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    email: nullable({ type: 'string' }),
    phone: nullable({ type: 'string' }),
    title: nullable({ type: 'string' }),
    timezone: nullable({ type: 'string' }),
    preferredChannel: nullable(channel),
    isPrimaryContact: { type: 'boolean' },
    topics: { type: 'array', items: { type: 'string' } },
    honorific: nullable({ type: 'string' }),
  },
} as const;

export const interviewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    followUpPlanId: nullable({ type: 'string', description: 'The plan created with the interview (null when the policy turns autoPlan off)' }),
    candidateId: { type: 'string' },
    company: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        preferredChannel: nullable(channel),
        followUpStyle,
        timezone: nullable({ type: 'string' }),
      },
    },
    positionTitle: { type: 'string' },
    startsAt: dateTime,
    endsAt: dateTime,
    timezone: { type: 'string' },
    channel: nullable(channel),
    decisionExpectedBy: nullable(dateTime),
    callBackExpectedBy: nullable(dateTime),
    topics: { type: 'array', items: { type: 'string' } },
    highlights: nullable({ type: 'string' }),
    leftOut: nullable({ type: 'string' }),
    resourceUrl: nullable({ type: 'string' }),
    status: { type: 'string', enum: ['SCHEDULED', 'CANCELLED'] },
    interviewers: { type: 'array', items: interviewerSchema },
    createdAt: dateTime,
  },
} as const;

export const bulkResultSchema = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'status'],
        properties: {
          index: { type: 'integer' },
          status: { type: 'integer', description: 'The HTTP status this item would have had alone' },
          interview: interviewSchema,
          error: errorSchema,
        },
      },
    },
  },
} as const;

/** PATCH /v1/interviews/{id}: the debrief. Absent leaves a field unchanged, null clears it. */
export const updateInterviewInputSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    positionTitle: { type: 'string', maxLength: 200 },
    decisionExpectedBy: nullable({ ...dateTime, description: 'T3: the check-in goes one business day after it' }),
    callBackExpectedBy: nullable(dateTime),
    topics: nullable({ type: 'array', maxItems: 20, items: { type: 'string', maxLength: 200 } }),
    highlights: nullable({ type: 'string', maxLength: 300, description: 'What the candidate wants to reiterate, as a noun phrase ("five years of running payments systems")' }),
    leftOut: nullable({ type: 'string', maxLength: 500, description: 'Something the candidate did not mention in the interview' }),
    resourceUrl: nullable({ type: 'string', description: 'An article or work sample (http or https URL) worth sending in the check-in' }),
    channel: nullable(channel),
  },
} as const;
/** Each status with the error body, described (OpenAPI shows "Default Response" otherwise). */
export const errorResponses = {
  400: { ...errorSchema, description: 'BAD_USER_INPUT: the input is invalid; every problem is listed, each naming its field' },
  401: { ...errorSchema, description: 'UNAUTHENTICATED: no token, or a bad one' },
  403: { ...errorSchema, description: 'FORBIDDEN: the token lacks the scope this needs' },
  404: { ...errorSchema, description: 'NOT_FOUND: no such id in this tenant' },
  409: { ...errorSchema, description: 'CONFLICT: the state does not allow it now' },
} as const;

export const describedInterviewSchema = { ...interviewSchema, description: 'The interview, with the id of its follow-up plan' };
export const describedBulkResultSchema = { ...bulkResultSchema, description: 'One result per item, in order: each stored or refused on its own' };
