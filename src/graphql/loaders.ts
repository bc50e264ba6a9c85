import DataLoader from 'dataloader';
import type { Caller, ServiceContext } from '../services/context.js';
import { getCandidatesByIds } from '../services/candidates.js';
import { getPlansByIds, getPlansByInterviewIds, getStepsByIds, getStepsByPlanIds } from '../services/follow-up-plans.js';
import { getCompaniesByIds, getInterviewersByInterviewIds, getInterviewsByIds } from '../services/interviews.js';
import { getMessagesByStepIds } from '../services/messages.js';
import type { ViewFields } from '../services/projection.js';
import { getAttemptsByDeliveryIds, getEndpointsByIds } from '../services/webhooks.js';

// One query per field per request, whatever the page size: a page of interviews costs one
// query for the interviews, one for all their candidates, one for all their interviewers, and
// so on. Keys are ids. (Mercurius' own loaders key each call by serialising the whole parent
// object, which measured as the largest single cost of a 50-interview page.)
//
// Loaders of projected views come per set of fields (see selection.ts): `loaders.candidate(fields)`
// is the loader for candidates read for those fields, shared by every item the field resolves.

export function createLoaders(services: ServiceContext, caller: Caller) {
  const batch = <V>(load: (ids: readonly string[]) => Promise<V[]>) => new DataLoader<string, V>(async (ids) => load(ids));
  const projected = <V>(load: (ids: readonly string[], fields: ViewFields) => Promise<V[]>) => {
    const byFields = new Map<ViewFields, DataLoader<string, V>>();
    return (fields?: ViewFields) => {
      let loader = byFields.get(fields);
      if (!loader) byFields.set(fields, (loader = new DataLoader<string, V>(async (ids) => load(ids, fields))));
      return loader;
    };
  };
  return {
    candidate: projected((ids, fields) => getCandidatesByIds(services, caller, ids, fields)),
    company: batch((ids) => getCompaniesByIds(services, caller, ids)),
    interview: projected((ids, fields) => getInterviewsByIds(services, caller, ids, fields)),
    interviewersOfInterview: projected((ids, fields) => getInterviewersByInterviewIds(services, caller, ids, fields)),
    planOfInterview: projected((ids, fields) => getPlansByInterviewIds(services, caller, ids, fields)),
    plan: projected((ids, fields) => getPlansByIds(services, caller, ids, fields)),
    stepsOfPlan: projected((ids, fields) => getStepsByPlanIds(services, caller, ids, fields)),
    step: projected((ids, fields) => getStepsByIds(services, caller, ids, fields)),
    messageOfStep: batch((ids) => getMessagesByStepIds(services, caller, ids)),
    webhookEndpoint: batch((ids) => getEndpointsByIds(services, caller, ids)),
    attemptsOfDelivery: batch((ids) => getAttemptsByDeliveryIds(services, caller, ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
