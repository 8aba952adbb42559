import { freemem, loadavg, totalmem } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { CollectionAgent, Sampler } from './agent.js';

/**
 * A sampler of the service's own process and host: CPU, memory, event-loop lag, GC time, load, and
 * every agent's ingest counters, and the access refusals by code (so the default analytics watch them). `npm start` runs it so that a new user sees real series at once.
 * Returns the sampler and a function that releases the event-loop and GC observers.
 */
export function selfMonitor(
  agent: CollectionAgent,
  agents: () => readonly CollectionAgent[],
  /** Other counters of the service (refusals by code, rate-limit hits), recorded as they stand. */
  counters: () => readonly { name: string; labels: Record<string, string>; value: number }[] = () => [],
): { sampler: Sampler; close(): void } {
  const series = (name: string, kind: 'gauge' | 'counter', unit = '', labels: Record<string, string> = {}) =>
    agent.series({ name, kind, unit, labels });
  const cpu = series('process_cpu_seconds_total', 'counter', 's');
  const rss = series('process_resident_memory_bytes', 'gauge', 'By');
  const heap = series('nodejs_heap_used_bytes', 'gauge', 'By');
  const lagMean = series('nodejs_eventloop_lag_seconds', 'gauge', 's', { stat: 'mean' });
  const lagP99 = series('nodejs_eventloop_lag_seconds', 'gauge', 's', { stat: 'p99' });
  const gcTime = series('nodejs_gc_duration_seconds_total', 'counter', 's');
  const load = series('host_load1', 'gauge');
  const memFree = series('host_memory_free_bytes', 'gauge', 'By');
  const memTotal = series('host_memory_total_bytes', 'gauge', 'By');
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let gcSeconds = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcSeconds += entry.duration / 1000;
  });
  gc.observe({ entryTypes: ['gc'] });

  const sampler: Sampler = () => {
    const now = Date.now();
    const usage = process.cpuUsage();
    const memory = process.memoryUsage();
    agent.record(cpu, (usage.user + usage.system) / 1e6, now);
    agent.record(rss, memory.rss, now);
    agent.record(heap, memory.heapUsed, now);
    if (delay.count > 0) {
      agent.record(lagMean, delay.mean / 1e9, now);
      agent.record(lagP99, delay.percentile(99) / 1e9, now);
    }
    delay.reset();
    agent.record(gcTime, gcSeconds, now);
    agent.record(load, loadavg()[0]!, now);
    agent.record(memFree, freemem(), now);
    agent.record(memTotal, totalmem(), now);
    for (const counter of counters())
      agent.record(series(counter.name, 'counter', '', counter.labels), counter.value, now);
    for (const other of agents()) {
      const health = other.health();
      const labels = { agent: health.agentId };
      agent.record(
        series('aul_agent_samples_recorded_total', 'counter', '', labels),
        health.samplesRecorded,
        now,
      );
      agent.record(
        series('aul_agent_samples_rejected_total', 'counter', '', labels),
        health.samplesRejected,
        now,
      );
      agent.record(
        series('aul_agent_samples_dropped_total', 'counter', '', labels),
        health.samplesDropped,
        now,
      );
      agent.record(series('aul_agent_buffer_depth', 'gauge', '', labels), health.bufferDepth, now);
      agent.record(series('aul_agent_spooled_batches', 'gauge', '', labels), health.spooledBatches, now);
    }
  };
  return {
    sampler,
    close() {
      delay.disable();
      gc.disconnect();
    },
  };
}
