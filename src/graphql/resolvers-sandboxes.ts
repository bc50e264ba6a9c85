import { advanceTestClock, getTestClock } from '../services/test-clock.js';
import { createTenantAsOperator, findTenantForOperator } from '../services/tenants.js';
import type { Resolvers } from './generated/resolvers-types.js';

// Sandboxes and the test clock, and the operator's tenant operations (the admin scope).

export const sandboxResolvers = {
  Query: {
    testClock: (_root, _args, { services, caller }) => getTestClock(services, caller),
    tenant: (_root, { slug }, { services, caller }) => findTenantForOperator(services, caller, slug),
  },
  Mutation: {
    advanceTestClock: (_root, { to }, { services, caller, reply }) => advanceTestClock(services, caller, to, { log: reply.log as never }),
    createTenant: (_root, args, { services, caller }) => createTenantAsOperator(services, caller, args),
  },
} satisfies Resolvers;
