import type { MercuriusContext } from 'mercurius';
import type { Caller, ServiceContext } from '../services/context.js';

/** What every resolver gets: the verified caller (tenant, subject, scopes) and the services' needs. */
export interface GraphQLContext extends MercuriusContext {
  caller: Caller;
  services: ServiceContext;
}
