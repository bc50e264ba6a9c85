import fastifyJwt from '@fastify/jwt';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';

// One server for the API benchmark, in its own process: MODE=graphql runs Afterview itself;
// MODE=baseline a hand-written fastify + pg route that returns the same JSON for the same page.

const mode = process.env.MODE;
const url = process.env.DATABASE_URL!;
const secret = process.env.JWT_SECRET!;

const BASELINE_QUERIES = {
  interviews: 'SELECT id, candidate_id, position_title, starts_at FROM interviews WHERE tenant_id = $1 ORDER BY id LIMIT $2',
  candidates: 'SELECT id, name, email FROM candidates WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
  interviewers: 'SELECT id, interview_id, name, email, title FROM interviewers WHERE tenant_id = $1 AND interview_id = ANY($2::uuid[]) ORDER BY interview_id, position',
  plans: 'SELECT id, interview_id, status FROM follow_up_plans WHERE tenant_id = $1 AND interview_id = ANY($2::uuid[])',
  steps: 'SELECT id, plan_id, kind, status, due_at, recipient_name, recipient_email FROM follow_up_steps WHERE tenant_id = $1 AND plan_id = ANY($2::uuid[]) ORDER BY plan_id, due_at, id',
};

function group<T extends Record<string, unknown>>(rows: T[], key: keyof T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(row[key] as string, [...(groups.get(row[key] as string) ?? []), row]);
  return groups;
}

async function baselineApp(): Promise<FastifyInstance> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const app = Fastify();
  await app.register(fastifyJwt, { secret });
  app.get('/baseline/interviews', async (request) => {
    const { tenant } = await request.jwtVerify<{ tenant: string }>();
    const first = Number((request.query as { first?: string }).first ?? 50);
    const interviews = (await pool.query(BASELINE_QUERIES.interviews, [tenant, first])).rows;
    const ids = interviews.map((row) => row.id);
    const [candidates, interviewers, plans] = await Promise.all([
      pool.query(BASELINE_QUERIES.candidates, [tenant, interviews.map((row) => row.candidate_id)]),
      pool.query(BASELINE_QUERIES.interviewers, [tenant, ids]),
      pool.query(BASELINE_QUERIES.plans, [tenant, ids]),
    ]);
    const steps = (await pool.query(BASELINE_QUERIES.steps, [tenant, plans.rows.map((row) => row.id)])).rows;
    const candidateById = new Map(candidates.rows.map((row) => [row.id, row]));
    const interviewersOf = group(interviewers.rows, 'interview_id');
    const planOf = new Map(plans.rows.map((row) => [row.interview_id, row]));
    const stepsOf = group(steps, 'plan_id');
    return {
      data: {
        interviews: {
          edges: interviews.map((row) => {
            const candidate = candidateById.get(row.candidate_id);
            const plan = planOf.get(row.id);
            return {
              node: {
                id: row.id,
                positionTitle: row.position_title,
                startsAt: row.starts_at.toISOString(),
                candidate: { id: candidate.id, name: candidate.name, email: candidate.email },
                interviewers: (interviewersOf.get(row.id) ?? []).map((i) => ({ id: i.id, name: i.name, email: i.email, title: i.title })),
                followUpPlan: plan && {
                  id: plan.id,
                  status: plan.status.toUpperCase(),
                  steps: (stepsOf.get(plan.id) ?? []).map((s) => ({
                    id: s.id,
                    kind: s.kind.toUpperCase(),
                    status: s.status.toUpperCase(),
                    dueAt: s.due_at.toISOString(),
                    recipient: { name: s.recipient_name, email: s.recipient_email },
                  })),
                },
              },
            };
          }),
        },
      },
    };
  });
  app.addHook('onClose', () => pool.end());
  return app;
}

const app =
  mode === 'baseline'
    ? await baselineApp()
    : await buildApp({ db: (await openDatabase({ url, poolSize: 10 })).db, jwtSecret: secret, logger: false, rateLimitPerMinute: 0, rateLimitPerCallerPerMinute: 0 });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') void app.close().then(() => process.exit(0));
});
