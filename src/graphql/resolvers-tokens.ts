import { eraseCandidate } from '../services/erasure.js';
import {
  createCandidateToken,
  deleteSigningKey,
  listSigningKeys,
  registerSigningKey,
  revokeToken,
  revokeTokens,
} from '../services/tokens-and-keys.js';
import type { Resolvers } from './generated/resolvers-types.js';

// Tokens, partners' signing keys, revocation and erasure (API.md "Who may see what").

export const tokenQueries: NonNullable<Resolvers['Query']> = {
  signingKeys: (_root, _args, { services, caller }) => listSigningKeys(services, caller),
};

export const tokenMutations: NonNullable<Resolvers['Mutation']> = {
  createCandidateToken: (_root, { candidateId, ttlSeconds, scope }, { services, caller }) => createCandidateToken(services, caller, { candidateId, ttlSeconds, scope }),
  registerSigningKey: (_root, { kid, publicKeyPem }, { services, caller }) => registerSigningKey(services, caller, { kid, publicKeyPem }),
  deleteSigningKey: (_root, { kid }, { services, caller }) => deleteSigningKey(services, caller, kid),
  revokeTokens: (_root, { issuedBefore }, { services, caller }) => revokeTokens(services, caller, issuedBefore),
  revokeToken: (_root, { jti }, { services, caller }) => revokeToken(services, caller, jti),
  eraseCandidate: (_root, { id }, { services, caller }) => eraseCandidate(services, caller, id),
};
