import type { OperatorAccess } from './services/operator-access.js';
import { ServiceError, type ErrorCode } from './services/errors.js';
import type { TenantView } from './services/tenants.js';

// The CLI's way to manage tenants through a running service (its embedded database is locked
// to it): GraphQL over HTTP with the operator token the service left in the data directory.

const TENANT_FIELDS = 'id slug name sendingAddress sandbox testClock';

async function call<T>(access: OperatorAccess, query: string, variables: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${access.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access.token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ServiceError('INTERNAL', `the data directory is in use, but the service at ${access.url} does not answer`);
  }
  const body = (await response.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  const error = body.errors?.[0];
  if (error || !body.data) throw new ServiceError((error?.extensions?.code as ErrorCode | undefined) ?? 'INTERNAL', error?.message ?? `HTTP ${response.status}`);
  return body.data;
}

function toView(tenant: Omit<TenantView, 'testClock'> & { testClock: string | null }): TenantView {
  return { ...tenant, testClock: tenant.testClock === null ? null : new Date(tenant.testClock) };
}

export async function createTenantThroughService(
  access: OperatorAccess,
  input: { slug: string; name?: string | undefined; sendingAddress?: string | undefined; sandbox: boolean },
): Promise<TenantView> {
  const data = await call<{ createTenant: Parameters<typeof toView>[0] }>(
    access,
    `mutation ($slug: String!, $name: String, $sendingAddress: String, $sandbox: Boolean) {
      createTenant(slug: $slug, name: $name, sendingAddress: $sendingAddress, sandbox: $sandbox) { ${TENANT_FIELDS} }
    }`,
    input,
  );
  return toView(data.createTenant);
}

export async function findTenantThroughService(access: OperatorAccess, slug: string): Promise<TenantView> {
  const data = await call<{ tenant: Parameters<typeof toView>[0] | null }>(access, `query ($slug: String!) { tenant(slug: $slug) { ${TENANT_FIELDS} } }`, { slug });
  if (!data.tenant) throw new ServiceError('NOT_FOUND', `tenant ${slug} was not found`);
  return toView(data.tenant);
}
