import { listInboundMessagesPage, listRepliesOfInterview } from '../services/inbound-messages.js';
import type { Page } from '../services/pagination.js';
import type { Resolvers } from './generated/resolvers-types.js';

// Inbound mail: what came back, and each interview's replies. Merged into the map in resolvers.ts.

const upper = <T extends string>(value: T): Uppercase<T> => value.toUpperCase() as Uppercase<T>;

function toConnection<T>(page: Page<T>) {
  return {
    edges: page.items.map((node, index) => ({ cursor: page.cursors[index]!, node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}

export const inboundResolvers: Resolvers = {
  Query: {
    inboundMessages: async (_root, { first, after, filter }, { services, caller }) =>
      toConnection(await listInboundMessagesPage(services, caller, { first, after }, { status: filter?.status ?? null })),
  },
  Interview: {
    replies: (interview, _args, { services, caller }) => listRepliesOfInterview(services, caller, interview.id),
  },
  Reply: {
    kind: (reply) => upper(reply.kind),
  },
  InboundMessage: {
    status: (message) => upper(message.status) as never,
  },
};
