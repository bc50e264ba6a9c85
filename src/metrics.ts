import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { countDueSteps, countPendingWebhookDeliveries, countUnsettledMessages } from './db/backlog.js';
import type { Database } from './db/schema.js';

// Prometheus metrics for operators. Counts and durations are recorded where they happen (HTTP
// hooks, GraphQL hooks, the worker); the backlog gauges are read from the database at scrape
// time. Labels are bounded: routes, codes and outcomes, never ids or personal data.

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  graphqlOperations: Counter<'operation' | 'field'>;
  graphqlErrors: Counter<'code'>;
  workerTickDuration: Histogram<'lane'>;
  stepsEvaluated: Counter<'decision'>;
  sendResults: Counter<'result'>;
  webhookResults: Counter<'outcome'>;
  databaseConnectionsLost: Counter<never>;
  workerPaused: Gauge<never>;
  /** 1 while the mail relay's circuit breaker holds sending back (open or probing), else 0. */
  relayBreakerOpen: Gauge<never>;
  relayBreakerTrips: Counter<never>;
}

/** A tick's and a request's durations, in seconds: from a millisecond to a minute. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createMetrics(db: Kysely<Database>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'afterview_' });

  new Gauge({
    name: 'afterview_due_steps',
    help: 'Follow-up steps due now and not yet evaluated (the worker backlog)',
    registers: [registry],
    async collect() {
      this.set(await countDueSteps(db).catch(() => Number.NaN));
    },
  });
  const outboxStatuses = ['held', 'queued', 'sending', 'retry', 'awaiting_delivery'];
  new Gauge({
    name: 'afterview_outbox_messages',
    help: 'Messages in the outbox that are not settled yet, by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await countUnsettledMessages(db).catch(() => null);
      for (const status of outboxStatuses) this.set({ status }, counts ? (counts.find((row) => row.status === status)?.n ?? 0) : Number.NaN);
    },
  });
  new Gauge({
    name: 'afterview_webhook_deliveries_pending',
    help: 'Webhook deliveries waiting to be sent or retried',
    registers: [registry],
    async collect() {
      this.set(await countPendingWebhookDeliveries(db).catch(() => Number.NaN));
    },
  });

  return {
    registry,
    httpDuration: new Histogram({
      name: 'afterview_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status_code'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: 'afterview_graphql_operations_total',
      help: 'GraphQL operations executed, by type and root field',
      labelNames: ['operation', 'field'],
      registers: [registry],
    }),
    graphqlErrors: new Counter({
      name: 'afterview_graphql_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'],
      registers: [registry],
    }),
    workerTickDuration: new Histogram({
      name: 'afterview_worker_tick_duration_seconds',
      help: 'How long one run of a worker lane took (steps, mail, webhooks)',
      labelNames: ['lane'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    stepsEvaluated: new Counter({
      name: 'afterview_steps_evaluated_total',
      help: 'Due steps evaluated by the worker, by decision',
      labelNames: ['decision'],
      registers: [registry],
    }),
    sendResults: new Counter({
      name: 'afterview_mail_send_results_total',
      help: 'SMTP send attempts by result: sent, transient, permanent, configuration',
      labelNames: ['result'],
      registers: [registry],
    }),
    webhookResults: new Counter({
      name: 'afterview_webhook_delivery_results_total',
      help: 'Webhook delivery attempts by outcome: delivered, failed, gone, refused',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    databaseConnectionsLost: new Counter({
      name: 'afterview_database_connections_lost_total',
      help: 'Database connections that lost their server (a restart, a failover, a terminated backend)',
      registers: [registry],
    }),
    workerPaused: new Gauge({
      name: 'afterview_worker_paused',
      help: '1 while the worker waits for an unreachable database, 0 otherwise',
      registers: [registry],
    }),
    relayBreakerOpen: new Gauge({
      name: 'afterview_mail_relay_breaker_open',
      help: '1 while the mail relay is unreachable and sending is paused (the breaker is open or probing), else 0',
      registers: [registry],
    }),
    relayBreakerTrips: new Counter({
      name: 'afterview_mail_relay_breaker_trips_total',
      help: 'Times the mail relay became unreachable and sending paused',
      registers: [registry],
    }),
  };
}
