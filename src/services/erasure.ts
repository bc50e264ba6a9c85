import { type Caller, requireScope, requireTenantWide, type ServiceContext } from './context.js';
import { ServiceError } from './errors.js';

export async function eraseCandidate(_ctx: ServiceContext, caller: Caller, _id: string): Promise<{ id: string; erasedAt: Date }> {
  requireScope(caller, 'policy:admin');
  requireTenantWide(caller, 'erase candidates');
  throw new ServiceError('INTERNAL', 'not yet');
}
