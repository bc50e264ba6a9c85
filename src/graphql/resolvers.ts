import type { MercuriusLoaders } from 'mercurius';
import { listAuditEvents } from '../services/audit.js';
import {
  createCandidate,
  getCandidate,
  getCandidatesByIds,
  listCandidatesPage,
  updateCandidate,
} from '../services/candidates.js';
import {
  cancelInterview,
  type CompanyView,
  getCompaniesByIds,
  getInterview,
  getInterviewsByIds,
  getInterviewersByInterviewIds,
  type InterviewView,
  listInterviewsPage,
  rescheduleInterview,
  scheduleInterview,
} from '../services/interviews.js';
import { notFound } from '../services/errors.js';
import {
  createFollowUpPlan,
  type FollowUpPlanView,
  type FollowUpStepView,
  getPlan,
  getPlansByIds,
  getPlansByInterviewIds,
  getStepsByPlanIds,
  listStepsPage,
  previewFollowUpPlan,
} from '../services/follow-up-plans.js';
import { getPolicy, updatePolicy } from '../services/policies.js';
import {
  cancelFollowUpPlan,
  markStepDelivered,
  pauseFollowUpPlan,
  recordOutcome,
  recordReply,
  resumeFollowUpPlan,
} from '../services/follow-up-events.js';
import { approveMessage, discardMessage, getMessage, getMessagesByStepIds, listMessagesPage, type MessageView } from '../services/messages.js';
import { getStepsByIds } from '../services/follow-up-plans.js';
import {
  deleteWebhookEndpoint,
  getAttemptsByDeliveryIds,
  getEndpointsByIds,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  registerWebhookEndpoint,
  rotateWebhookSecret,
  type WebhookDeliveryView,
} from '../services/webhooks.js';
import type { Page } from '../services/pagination.js';
import type { GraphQLContext } from './context.js';
import type { Resolvers } from './generated/resolvers-types.js';
import { DateTimeScalar, EmailAddressScalar, JSONScalar, PhoneNumberScalar, TimeZoneScalar } from './scalars.js';

// Resolvers stay thin: unwrap arguments, call one service, shape the answer. Enum values are
// lower-case inside the service (the domain's words) and upper-case on the wire.

function upper<T extends string>(value: T): Uppercase<T>;
function upper<T extends string>(value: T | null): Uppercase<T> | null;
function upper<T extends string>(value: T | null): Uppercase<T> | null {
  return value === null ? null : (value.toUpperCase() as Uppercase<T>);
}

export function toConnection<T>(page: Page<T>) {
  return {
    edges: page.items.map((node, index) => ({ cursor: page.cursors[index]!, node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  EmailAddress: EmailAddressScalar,
  PhoneNumber: PhoneNumberScalar,
  TimeZone: TimeZoneScalar,
  JSON: JSONScalar,

  Query: {
    candidate: (_root, { id }, { services, caller }) => getCandidate(services, caller, id),
    candidates: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listCandidatesPage(services, caller, { first, after }, filter ?? {})),
    interview: (_root, { id }, { services, caller }) => getInterview(services, caller, id),
    interviews: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listInterviewsPage(services, caller, { first, after }, filter ?? {})),
    auditEvents: async (_root, { entityId, first, after }, { services, caller }) =>
      toConnection(await listAuditEvents(services, caller, entityId, { first, after })),
    followUpPlan: (_root, { id }, { services, caller }) => getPlan(services, caller, id),
    followUpSteps: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listStepsPage(services, caller, { first, after }, filter ?? {})),
    previewFollowUpPlan: (_root, { interviewId }, { services, caller }) => previewFollowUpPlan(services, caller, interviewId),
    policy: (_root, _args, { services, caller }) => getPolicy(services, caller),
    message: (_root, { id }, { services, caller }) => getMessage(services, caller, id),
    messages: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listMessagesPage(services, caller, { first, after }, filter ?? {})),
    webhookEndpoints: (_root, _args, { services, caller }) => listWebhookEndpoints(services, caller),
    webhookDeliveries: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listWebhookDeliveries(services, caller, { first, after }, filter ?? {})),
  },

  Mutation: {
    createCandidate: (_root, { input }, { services, caller }) => createCandidate(services, caller, input),
    updateCandidate: (_root, { id, input }, { services, caller }) => updateCandidate(services, caller, id, input),
    scheduleInterview: async (_root, { input }, { services, caller }) => (await scheduleInterview(services, caller, input)).interview,
    rescheduleInterview: (_root, args, { services, caller }) => rescheduleInterview(services, caller, args),
    cancelInterview: (_root, { id }, { services, caller }) => cancelInterview(services, caller, id),
    createFollowUpPlan: (_root, { interviewId }, { services, caller }) => createFollowUpPlan(services, caller, interviewId),
    updatePolicy: (_root, { document }, { services, caller }) => updatePolicy(services, caller, document),
    recordReply: (_root, { input }, { services, caller }) => recordReply(services, caller, input),
    recordOutcome: (_root, args, { services, caller }) => recordOutcome(services, caller, args),
    approveMessage: (_root, { id, subject, body }, { services, caller }) => approveMessage(services, caller, id, { subject, body }),
    discardMessage: (_root, { id }, { services, caller }) => discardMessage(services, caller, id),
    pauseFollowUpPlan: (_root, { id }, { services, caller }) => pauseFollowUpPlan(services, caller, id),
    resumeFollowUpPlan: (_root, { id }, { services, caller }) => resumeFollowUpPlan(services, caller, id),
    cancelFollowUpPlan: (_root, { id, reason }, { services, caller }) => cancelFollowUpPlan(services, caller, id, reason),
    markStepDelivered: (_root, { id }, { services, caller }) => markStepDelivered(services, caller, id),
    registerWebhookEndpoint: (_root, { url, events }, { services, caller }) => registerWebhookEndpoint(services, caller, { url, events }),
    rotateWebhookSecret: (_root, { id }, { services, caller }) => rotateWebhookSecret(services, caller, id),
    deleteWebhookEndpoint: (_root, { id }, { services, caller }) => deleteWebhookEndpoint(services, caller, id),
    redeliverWebhook: (_root, { deliveryId }, { services, caller }) => redeliverWebhook(services, caller, deliveryId),
  },

  Candidate: {
    interviews: async (candidate, { first, after }, { services, caller }) =>
      toConnection(await listInterviewsPage(services, caller, { first, after }, { candidateId: candidate.id })),
  },

  Interview: {
    channel: (interview) => upper(interview.channel),
    status: (interview) => upper(interview.status),
    outcome: (interview) => upper(interview.outcome),
  },

  Interviewer: {
    preferredChannel: (interviewer) => upper(interviewer.preferredChannel),
  },

  Company: {
    preferredChannel: (company) => upper(company.preferredChannel),
    followUpStyle: (company) => upper(company.followUpStyle),
  },

  FollowUpPlan: {
    status: (plan) => upper(plan.status),
  },

  FollowUpStep: {
    kind: (step) => upper(step.kind),
    channel: (step) => upper(step.channel),
    // A paused plan's waiting steps are still scheduled, as far as a partner is concerned.
    status: (step) => (step.status === 'paused' ? 'SCHEDULED' : upper(step.status)),
  },

  PlannedStep: {
    decisions: (step) => step.rules,
    kind: (step) => upper(step.kind),
    channel: (step) => upper(step.channel),
    status: (step) => upper(step.status),
  },

  RuleResult: {
    outcome: (result) => upper(result.outcome),
  },

  LintFinding: {
    level: (finding) => upper(finding.level),
  },

  Message: {
    status: (message) => upper(message.status),
    channel: (message) => upper(message.channel),
    to: (message) => message.to.address,
    toName: (message) => message.to.name,
    from: (message) => mailbox(message.from),
    replyTo: (message) => mailbox(message.replyTo),
  },

  WebhookEndpoint: {
    status: (endpoint) => upper(endpoint.status),
  },

  WebhookDelivery: {
    status: (delivery) => upper(delivery.status),
  },

  Reply: {
    interview: (reply, _args, { services, caller }) => getInterview(services, caller, reply.interviewId),
    cancelledSteps: async (reply, _args, { services, caller }) =>
      present('follow-up step', reply.cancelledStepIds, await getStepsByIds(services, caller, reply.cancelledStepIds)),
    respondToConcernsStep: async (reply, _args, { services, caller }) =>
      reply.respondToConcernsStepId ? (await getStepsByIds(services, caller, [reply.respondToConcernsStepId]))[0] ?? null : null,
  },
};

/** A mailbox as a header shows it: "Name" <address>. */
function mailbox({ name, address }: MessageView['from']): string {
  return `"${name.replaceAll('"', "'")}" <${address}>`;
}

type LoaderQuery<Parent> = Array<{ obj: Parent; params: unknown }>;

function present<T>(what: string, ids: readonly string[], found: Array<T | null>): T[] {
  return found.map((item, index) => {
    // A foreign key guarantees these exist; a miss means data went missing underneath us.
    if (item === null) throw notFound(what, ids[index]!);
    return item;
  });
}

/**
 * One query per field per request, whatever the page size: a page of interviews costs one
 * query for the interviews, one for all their candidates, one for all their interviewers.
 */
export const loaders: MercuriusLoaders<GraphQLContext> = {
  Interview: {
    async candidate(queries: LoaderQuery<InterviewView>, { services, caller }) {
      const ids = queries.map(({ obj }) => obj.candidateId);
      return present('candidate', ids, await getCandidatesByIds(services, caller, ids));
    },
    async company(queries: LoaderQuery<InterviewView>, { services, caller }): Promise<CompanyView[]> {
      const ids = queries.map(({ obj }) => obj.companyId);
      return present('company', ids, await getCompaniesByIds(services, caller, ids));
    },
    async interviewers(queries: LoaderQuery<InterviewView>, { services, caller }) {
      return getInterviewersByInterviewIds(services, caller, queries.map(({ obj }) => obj.id));
    },
    async followUpPlan(queries: LoaderQuery<InterviewView>, { services, caller }) {
      return getPlansByInterviewIds(services, caller, queries.map(({ obj }) => obj.id));
    },
  },
  FollowUpPlan: {
    async interview(queries: LoaderQuery<FollowUpPlanView>, { services, caller }) {
      const ids = queries.map(({ obj }) => obj.interviewId);
      return present('interview', ids, await getInterviewsByIds(services, caller, ids));
    },
    async steps(queries: LoaderQuery<FollowUpPlanView>, { services, caller }) {
      return getStepsByPlanIds(services, caller, queries.map(({ obj }) => obj.id));
    },
  },
  FollowUpStep: {
    async plan(queries: LoaderQuery<FollowUpStepView>, { services, caller }) {
      const ids = queries.map(({ obj }) => obj.planId);
      return present('follow-up plan', ids, await getPlansByIds(services, caller, ids));
    },
    async message(queries: LoaderQuery<FollowUpStepView>, { services, caller }) {
      return getMessagesByStepIds(services, caller, queries.map(({ obj }) => obj.id));
    },
  },
  WebhookDelivery: {
    async endpoint(queries: LoaderQuery<WebhookDeliveryView>, { services, caller }) {
      const ids = queries.map(({ obj }) => obj.endpointId);
      return present('webhook endpoint', ids, await getEndpointsByIds(services, caller, ids));
    },
    async attemptLog(queries: LoaderQuery<WebhookDeliveryView>, { services, caller }) {
      return getAttemptsByDeliveryIds(services, caller, queries.map(({ obj }) => obj.id));
    },
  },
  Message: {
    async step(queries: LoaderQuery<MessageView>, { services, caller }) {
      const ids = queries.map(({ obj }) => obj.stepId);
      return present('follow-up step', ids, await getStepsByIds(services, caller, ids));
    },
  },
};
