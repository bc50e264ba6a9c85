import type { MercuriusContext } from 'mercurius';
import type { Caller, ServiceContext } from '../services/context.js';
import type { Loaders } from './loaders.js';

/** What every resolver gets: the verified caller (tenant, subject, scopes), the services' needs and the loaders. */
export interface GraphQLContext extends MercuriusContext {
  caller: Caller;
  services: ServiceContext;
  /** Per-request batch loaders (N+1 lookups become one query per field). */
  loaders: Loaders;
}
