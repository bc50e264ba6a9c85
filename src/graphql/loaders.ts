import DataLoader from 'dataloader';
import type { Caller, ServiceContext } from '../services/context.js';
import { getCandidatesByIds } from '../services/candidates.js';
import { getPlansByIds, getPlansByInterviewIds, getStepsByIds, getStepsByPlanIds } from '../services/follow-up-plans.js';
import { getCompaniesByIds, getInterviewersByInterviewIds, getInterviewsByIds } from '../services/interviews.js';
import { getMessagesByStepIds } from '../services/messages.js';
import { getAttemptsByDeliveryIds, getEndpointsByIds } from '../services/webhooks.js';

// One query per field per request, whatever the page size: a page of interviews costs one
// query for the interviews, one for all their candidates, one for all their interviewers, and
// so on. Keys are ids. (Mercurius' own loaders key each call by serialising the whole parent
// object, which measured as the largest single cost of a 50-interview page.)

export function createLoaders(services: ServiceContext, caller: Caller) {
  const batch = <V>(load: (ids: readonly string[]) => Promise<V[]>) => new DataLoader<string, V>(async (ids) => load(ids));
  return {
    candidate: batch((ids) => getCandidatesByIds(services, caller, ids)),
    company: batch((ids) => getCompaniesByIds(services, caller, ids)),
    interview: batch((ids) => getInterviewsByIds(services, caller, ids)),
    interviewersOfInterview: batch((ids) => getInterviewersByInterviewIds(services, caller, ids)),
    planOfInterview: batch((ids) => getPlansByInterviewIds(services, caller, ids)),
    plan: batch((ids) => getPlansByIds(services, caller, ids)),
    stepsOfPlan: batch((ids) => getStepsByPlanIds(services, caller, ids)),
    step: batch((ids) => getStepsByIds(services, caller, ids)),
    messageOfStep: batch((ids) => getMessagesByStepIds(services, caller, ids)),
    webhookEndpoint: batch((ids) => getEndpointsByIds(services, caller, ids)),
    attemptsOfDelivery: batch((ids) => getAttemptsByDeliveryIds(services, caller, ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
