import { listAuditEvents } from '../services/audit.js';
import {
  createCandidate,
  getCandidate,
  listCandidatesPage,
  updateCandidate,
} from '../services/candidates.js';
import {
  cancelInterview,
  getInterview,
  listInterviewsPage,
  rescheduleInterview,
  scheduleInterview,
} from '../services/interviews.js';
import { notFound } from '../services/errors.js';
import {
  createFollowUpPlan,
  getPlan,
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
import { approveMessage, discardMessage, getMessage, listMessagesPage, type MessageView } from '../services/messages.js';
import {
  deleteWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  redeliverWebhook,
  registerWebhookEndpoint,
  rotateWebhookSecret,
} from '../services/webhooks.js';
import type { Page } from '../services/pagination.js';
import { listSuppressionsPage, suppressAddress, unsuppressAddress } from '../services/suppressions.js';
import type { Resolvers } from './generated/resolvers-types.js';
import { tokenMutations, tokenQueries } from './resolvers-tokens.js';
import { debriefMutations } from './resolvers-debrief.js';
import { inboundResolvers } from './resolvers-inbound.js';
import { sendingDomainResolvers } from './resolvers-sending-domains.js';
import { reviewLinkMutations } from './resolvers-review-links.js';
import { DateTimeScalar, EmailAddressScalar, JSONScalar, PhoneNumberScalar, TimeZoneScalar } from './scalars.js';
import { CONNECTION_NODES, NEEDS, viewFields } from './selection.js';
import { deliveryFaultMutations } from './resolvers-delivery-faults.js';

// Resolvers stay thin: unwrap arguments, call one service, shape the answer. Enum values are
// lower-case inside the service (the domain's words) and upper-case on the wire.

// A page of steps asks for thousands of these: each value is upper-cased once per process (the
// values are the domain's few words; the bound only guards against a surprise).
const upperCased = new Map<string, string>();
const UPPER_CASED_LIMIT = 1000;

function upper<T extends string>(value: T): Uppercase<T>;
function upper<T extends string>(value: T | null): Uppercase<T> | null;
function upper<T extends string>(value: T | null): Uppercase<T> | null {
  if (value === null) return null;
  let cased = upperCased.get(value);
  if (cased === undefined) {
    cased = value.toUpperCase();
    if (upperCased.size < UPPER_CASED_LIMIT) upperCased.set(value, cased);
  }
  return cased as Uppercase<T>;
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
    candidates: async (_root, { first, after, filter }, { services, caller }, info) =>
      toConnection(await listCandidatesPage(services, caller, { first, after }, filter ?? {}, viewFields(info, NEEDS.Candidate, CONNECTION_NODES))),
    interview: (_root, { id }, { services, caller }) => getInterview(services, caller, id),
    interviews: async (_root, { first, after, filter }, { services, caller }, info) =>
      toConnection(await listInterviewsPage(services, caller, { first, after }, filter ?? {}, viewFields(info, NEEDS.Interview, CONNECTION_NODES))),
    auditEvents: async (_root, { entityId, first, after }, { services, caller }) =>
      toConnection(await listAuditEvents(services, caller, entityId, { first, after })),
    followUpPlan: (_root, { id }, { services, caller }) => getPlan(services, caller, id),
    followUpSteps: async (_root, { first, after, filter }, { services, caller }, info) =>
      toConnection(await listStepsPage(services, caller, { first, after }, filter ?? {}, viewFields(info, NEEDS.FollowUpStep, CONNECTION_NODES))),
    previewFollowUpPlan: (_root, { interviewId }, { services, caller }) => previewFollowUpPlan(services, caller, interviewId),
    policy: (_root, _args, { services, caller }) => getPolicy(services, caller),
    message: (_root, { id }, { services, caller }) => getMessage(services, caller, id),
    messages: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listMessagesPage(services, caller, { first, after }, filter ?? {})),
    webhookEndpoints: (_root, _args, { services, caller }) => listWebhookEndpoints(services, caller),
    suppressions: async (_root, { first, after }, { services, caller }) => toConnection(await listSuppressionsPage(services, caller, { first, after })),
    webhookDeliveries: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listWebhookDeliveries(services, caller, { first, after }, filter ?? {})),
    ...tokenQueries,
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
    ...deliveryFaultMutations,
    pauseFollowUpPlan: (_root, { id }, { services, caller }) => pauseFollowUpPlan(services, caller, id),
    resumeFollowUpPlan: (_root, { id }, { services, caller }) => resumeFollowUpPlan(services, caller, id),
    cancelFollowUpPlan: (_root, { id, reason }, { services, caller }) => cancelFollowUpPlan(services, caller, id, reason),
    markStepDelivered: (_root, { id }, { services, caller }) => markStepDelivered(services, caller, id),
    suppressAddress: (_root, { address, reason }, { services, caller }) => suppressAddress(services, caller, { address, reason: reason?.toLowerCase() }),
    unsuppressAddress: (_root, { address }, { services, caller }) => unsuppressAddress(services, caller, address),
    registerWebhookEndpoint: (_root, { url, events }, { services, caller }) => registerWebhookEndpoint(services, caller, { url, events }),
    rotateWebhookSecret: (_root, { id }, { services, caller }) => rotateWebhookSecret(services, caller, id),
    deleteWebhookEndpoint: (_root, { id }, { services, caller }) => deleteWebhookEndpoint(services, caller, id),
    redeliverWebhook: (_root, { deliveryId }, { services, caller }) => redeliverWebhook(services, caller, deliveryId),
    ...tokenMutations,
    ...debriefMutations,
    ...reviewLinkMutations,
  },

  Candidate: {
    interviews: async (candidate, { first, after }, { services, caller }, info) =>
      toConnection(await listInterviewsPage(services, caller, { first, after }, { candidateId: candidate.id }, viewFields(info, NEEDS.Interview, CONNECTION_NODES))),
  },

  Interview: {
    candidate: async (interview, _args, { loaders }, info) =>
      required('candidate', interview.candidateId, await loaders.candidate(viewFields(info, NEEDS.Candidate)).load(interview.candidateId)),
    company: async (interview, _args, { loaders }) => required('company', interview.companyId, await loaders.company.load(interview.companyId)),
    interviewers: (interview, _args, { loaders }, info) => loaders.interviewersOfInterview(viewFields(info, NEEDS.Interviewer)).load(interview.id),
    followUpPlan: (interview, _args, { loaders }, info) => loaders.planOfInterview(viewFields(info, NEEDS.FollowUpPlan)).load(interview.id),
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
    interview: async (plan, _args, { loaders }, info) =>
      required('interview', plan.interviewId, await loaders.interview(viewFields(info, NEEDS.Interview)).load(plan.interviewId)),
    steps: (plan, _args, { loaders }, info) => loaders.stepsOfPlan(viewFields(info, NEEDS.FollowUpStep)).load(plan.id),
    status: (plan) => upper(plan.status),
  },

  FollowUpStep: {
    plan: async (step, _args, { loaders }, info) => required('follow-up plan', step.planId, await loaders.plan(viewFields(info, NEEDS.FollowUpPlan)).load(step.planId)),
    message: (step, _args, { loaders }) => loaders.messageOfStep.load(step.id),
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
    step: async (message, _args, { loaders }, info) =>
      required('follow-up step', message.stepId, await loaders.step(viewFields(info, NEEDS.FollowUpStep)).load(message.stepId)),
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

  Suppression: {
    reason: (suppression) => upper(suppression.reason),
  },

  WebhookDelivery: {
    endpoint: async (delivery, _args, { loaders }) =>
      required('webhook endpoint', delivery.endpointId, await loaders.webhookEndpoint.load(delivery.endpointId)),
    attemptLog: (delivery, _args, { loaders }) => loaders.attemptsOfDelivery.load(delivery.id),
    status: (delivery) => upper(delivery.status),
  },

  Reply: {
    interview: (reply, _args, { services, caller }) => getInterview(services, caller, reply.interviewId),
    cancelledSteps: async (reply, _args, { loaders }, info) =>
      Promise.all(reply.cancelledStepIds.map(async (id) => required('follow-up step', id, await loaders.step(viewFields(info, NEEDS.FollowUpStep)).load(id)))),
    respondToConcernsStep: (reply, _args, { loaders }, info) =>
      reply.respondToConcernsStepId ? loaders.step(viewFields(info, NEEDS.FollowUpStep)).load(reply.respondToConcernsStepId) : null,
  },
};

// Areas with their own resolver files join the map here, type by type.
for (const area of [inboundResolvers, sendingDomainResolvers]) {
  for (const [type, fields] of Object.entries(area)) {
    const map = resolvers as Record<string, object>;
    map[type] = { ...(map[type] ?? {}), ...fields };
  }
}

/** A mailbox as a header shows it: "Name" <address>. */
function mailbox({ name, address }: MessageView['from']): string {
  return `"${name.replaceAll('"', "'")}" <${address}>`;
}

/** A foreign key guarantees these exist; a miss means data went missing underneath us. */
function required<T>(what: string, id: string, found: T | null): T {
  if (found === null) throw notFound(what, id);
  return found;
}
