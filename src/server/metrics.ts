import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ProjectionRunner } from '../projections/runner.js';
import type { HealthConsumer, Problem } from './health.js';

/**
 * The service's own Prometheus metrics: process defaults, projection progress and lag, each log
 * consumer's state, and every readiness problem with its reason (so a scrape says why it is not ready).
 */
export function createServiceMetrics(options: {
  readonly projections: readonly ProjectionRunner[];
  readonly consumers: () => readonly HealthConsumer[];
  readonly problems: () => readonly Problem[];
  /** Counters kept elsewhere (access refusals by code), exposed as they stand. */
  readonly counters?: () => readonly { name: string; labels: Record<string, string>; value: number }[];
}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aul_' });
  // A failing status (event store down) leaves the gauge out of this scrape rather than failing it.
  const statuses = async () =>
    (await Promise.allSettled(options.projections.map((r) => r.status()))).flatMap((r) =>
      r.status === 'fulfilled' ? [r.value] : [],
    );
  new Gauge({
    name: 'aul_projection_lag_milliseconds',
    help: 'How long ago the oldest event the projection has still to write was appended; 0 when it has written all it takes',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const status of await statuses()) this.set({ projection: status.name }, status.lagMs);
    },
  });
  new Gauge({
    name: 'aul_projection_events_projected',
    help: 'Events written by the projection since this process started',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const status of await statuses()) this.set({ projection: status.name }, status.eventsProjected);
    },
  });
  new Gauge({
    name: 'aul_consumer_up',
    help: 'Whether the log consumer (projection, pipeline, alert manager, complex events) is reading the log (1) or has stopped, halted or is retrying (0)',
    labelNames: ['consumer', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const consumer of options.consumers()) {
        const status = consumer.consumerStatus();
        this.set(
          { consumer: status.name, state: status.state },
          status.state === 'live' || status.state === 'catchingUp' ? 1 : 0,
        );
      }
    },
  });
  new Gauge({
    name: 'aul_not_ready',
    help: 'A reason the service is not ready (see /readyz): one series per problem, labelled with the component and the reason',
    labelNames: ['component', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const problem of options.problems())
        this.set({ component: problem.component, reason: problem.reason.slice(0, 300) }, 1);
    },
  });
  new Gauge({
    name: 'aul_access_refused_total',
    help: 'Requests refused since start, by code: UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED (also recorded as facts and as a series)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const counter of options.counters?.() ?? [])
        if (counter.name === 'aul_access_refused_total')
          this.set({ code: counter.labels.code ?? '' }, counter.value);
    },
  });
  return registry;
}
