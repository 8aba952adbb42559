/**
 * Analytics benchmark. (1) Samples per second on one core through a pipeline engine with the
 * detector ensemble and trend tracking on, over 1,000 series. (2) Latency from a sample's ingest (the
 * agent's `record`) to its `anomalyDetected` event in the log, through agent → log → pipeline, for
 * planted spikes. Prints a table; the last line is JSON with `samplesPerSecondPerCore`,
 * `latencyP50Ms`, `latencyP99Ms`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { quantile } from 'simple-statistics';
import { agentKind } from '../src/actors/agent.kind.js';
import { createActorHost } from '../src/actors/host.js';
import { pipelineKind } from '../src/actors/pipeline.kind.js';
import { createCollectionAgent } from '../src/collection/agent.js';
import { defineSeries } from '../src/domain/metrics/identity.js';
import { PipelineDefinition } from '../src/domain/pipeline/definition.js';
import { PipelineEngine } from '../src/domain/pipeline/engine.js';
import { createPipelineRuntime } from '../src/pipelines/runtime.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';
import { fmt, report } from './report.js';

const definition = PipelineDefinition.parse({
  id: 'bench',
  route: [{ name: '*' }],
  quality: { allowedLatenessMs: 0, requiredLabels: [] },
  analytics: { minAnomalyScore: 0.9 },
});

// (1) Throughput of the detection path itself, one core.
const SERIES = 1000;
const STEPS = 1000;
const defs = Array.from({ length: SERIES }, (_, i) =>
  defineSeries({ name: 'bench_metric', labels: { s: String(i) }, kind: 'gauge' }),
);
const engine = new PipelineEngine(definition);
let anomalies = 0;
const started = performance.now();
for (let step = 0; step < STEPS; step++) {
  for (let s = 0; s < SERIES; s++)
    engine.accept(
      defs[s]!,
      step * 1000,
      50 + Math.sin(step * 0.1 + s) * 5 + (step === 700 && s % 10 === 0 ? 80 : 0),
    );
  anomalies += engine.tick().anomalies.length;
}
const seconds = (performance.now() - started) / 1000;
const perCore = (SERIES * STEPS) / seconds;

// (2) Ingest → anomaly event latency, end to end on the embedded store.
const dir = mkdtempSync(join(tmpdir(), 'bench-analytics-'));
const logger = pino({ level: 'warn' });
const events = createSqliteEventStore({ path: join(dir, 'events.db') });
const host = createActorHost({ store: events, kinds: [agentKind(), pipelineKind()], logger });
const agent = createCollectionAgent({
  id: 'lat',
  events,
  host,
  logger,
  spoolDir: join(dir, 'spool'),
  batchMaxDelayMs: 2,
});
const pipeline = createPipelineRuntime({
  definition: { ...definition, id: 'latency' },
  events,
  host,
  logger,
});
await agent.start();
await pipeline.start();
const series = agent.series({ name: 'latency_probe', kind: 'gauge' });
const sentAt = new Map<number, number>();
const latencies: number[] = [];
const subscription = events.subscribeToAll({
  after: (await events.headPosition()) ?? undefined,
  filter: { categories: ['findings'], eventTypes: ['anomalyDetected'] },
});
const collecting = (async () => {
  for await (const message of subscription) {
    if (message.kind !== 'event') continue;
    const ts = (message.event.data as { ts: number }).ts;
    const at = sentAt.get(ts);
    if (at !== undefined) latencies.push(performance.now() - at);
  }
})();
let t = Date.now() - 3_600_000;
for (let spike = 0; spike < 100; spike++) {
  for (let i = 0; i < 160; i++) agent.record(series, 50 + Math.sin(t / 1000), t++); // baseline, past the damping period
  await new Promise((r) => setTimeout(r, 20));
  sentAt.set(t, performance.now());
  agent.record(series, 5000 * (spike + 1), t++);
  await new Promise((r) => setTimeout(r, 30));
}
await new Promise((r) => setTimeout(r, 500));
await subscription.close();
await collecting;
await pipeline.stop();
await agent.stop();
await host.stop();
await events.close();
rmSync(dir, { recursive: true, force: true });

const p50 = latencies.length ? quantile(latencies, 0.5) : Number.NaN;
const p99 = latencies.length ? quantile(latencies, 0.99) : Number.NaN;
report(
  'analytics',
  [
    [
      'detection path, samples/s on one core',
      `${fmt(perCore)} (${SERIES} series × ${STEPS} steps, ${anomalies} anomalies)`,
    ],
    ['ingest → anomalyDetected in the log, p50 ms', fmt(p50, 1)],
    ['ingest → anomalyDetected in the log, p99 ms', fmt(p99, 1)],
    ['spikes detected', `${latencies.length} of 100`],
  ],
  {
    samplesPerSecondPerCore: Math.round(perCore),
    latencyP50Ms: Math.round(p50 * 10) / 10,
    latencyP99Ms: Math.round(p99 * 10) / 10,
  },
);
