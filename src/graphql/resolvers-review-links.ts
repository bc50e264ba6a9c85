import { createReviewLink, revokeReviewLink } from '../services/review-links.js';
import type { Resolvers } from './generated/resolvers-types.js';

// Links to the candidate's page (API.md "The candidate's page").

export const reviewLinkMutations: NonNullable<Resolvers['Mutation']> = {
  createReviewLink: (_root, { candidateId, ttlSeconds }, { services, caller }) => createReviewLink(services, caller, { candidateId, ttlSeconds }),
  revokeReviewLink: (_root, { id }, { services, caller }) => revokeReviewLink(services, caller, id),
};
