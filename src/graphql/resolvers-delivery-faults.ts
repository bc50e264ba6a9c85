import { requeueMessage } from '../services/message-requeue.js';
import type { MutationResolvers } from './generated/resolvers-types.js';

// Resolvers for running through delivery faults (issue 10): thin, one service call each.

export const deliveryFaultMutations: Pick<MutationResolvers, 'requeueMessage'> = {
  requeueMessage: (_root, { id }, { services, caller }) => requeueMessage(services, caller, id),
};
