import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ProjectionRunner } from '../projections/runner.js';

/** The service's own Prometheus metrics: process defaults plus projection progress and lag. */
export function createServiceMetrics(runners: readonly ProjectionRunner[]): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aul_' });
  // A failing status (event store down) leaves the gauge out of this scrape rather than failing it.
  const statuses = async () =>
    (await Promise.allSettled(runners.map((r) => r.status()))).flatMap((r) =>
      r.status === 'fulfilled' ? [r.value] : [],
    );
  new Gauge({
    name: 'aul_projection_lag_milliseconds',
    help: 'How long ago the last written event was appended, while the projection is behind the log',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const status of await statuses()) this.set({ projection: status.name }, status.lagMs);
    },
  });
  new Gauge({
    name: 'aul_projection_behind',
    help: 'Whether the projection has written everything up to the head of the log (0) or not (1)',
    labelNames: ['projection'],
    registers: [registry],
    async collect() {
      for (const status of await statuses()) {
        this.set({ projection: status.name }, status.checkpoint === status.headPosition ? 0 : 1);
      }
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
  return registry;
}
