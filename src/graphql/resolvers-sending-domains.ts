import { configureSendingDomain, listTenantSendingDomains, removeSendingDomain } from '../services/sending-domains.js';
import type { Resolvers } from './generated/resolvers-types.js';

// Sending domains and their DKIM keys (API.md "Replies, auto-replies and bounces"). Merged into the map in resolvers.ts.

export const sendingDomainResolvers: Resolvers = {
  Query: {
    sendingDomains: (_root, _args, { services, caller }) => listTenantSendingDomains(services, caller),
  },
  Mutation: {
    configureSendingDomain: (_root, { domain, selector, privateKeyPem }, { services, caller }) => configureSendingDomain(services, caller, { domain, selector, privateKeyPem }),
    removeSendingDomain: (_root, { domain }, { services, caller }) => removeSendingDomain(services, caller, domain),
  },
};
