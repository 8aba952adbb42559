/**
 * Analytics benchmark. (1) Samples per second on one core through the per-series analytics, in parts
 * so the bottleneck is visible: the detector ensemble alone; trends and stored shapes alone; the
 * sliding windows alone; the headline — everything the engine's analysis entry point (`analyseBatch`)
 * runs per sample (ensemble, trends, shapes, windows), fed in columnar batches of 1,000 samples as the engine feeds it; and the engine path
 * overall (`acceptAt` + `tick`: quality checks, reorder buffer, release order, analysis, and the
 * pass-through samples a pipeline without stages emits). 1,000 series × 1,000 steps, each part the
 * median of 3 runs after a warm-up run. (2) Latency from a sample's ingest (the agent's `record`) to its `anomalyDetected`
 * event in the log, through agent → log → pipeline, for planted spikes. (3) At 100,000 series
 * (`analytics-scale.ts`): state bytes a series, throughput, and the time to write a per-series
 * checkpoint of them all. (4) The live path through the running service (`service-latency.ts`): from an
 * `ingestMetrics` call to the anomaly, and to the alert of a rule with no hold, on graphql-ws. Prints a
 * table; the last line is JSON with `samplesPerSecondPerCore` (the headline), `engineSamplesPerSecond`,
 * `latencyP50Ms`, `latencyP99Ms`, the parts, `stateBytesPerSeries`, `checkpointMs`, `rssMB`,
 * `serviceAnomalyP99Ms`, `serviceAlertP99Ms` and the machine's load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { quantile } from 'simple-statistics';
import { agentKind } from '../src/actors/agent.kind.js';
import { createActorHost } from '../src/actors/host.js';
import { pipelineKind } from '../src/actors/pipeline.kind.js';
import { createCollectionAgent } from '../src/collection/agent.js';
import { PipelineDefinition } from '../src/domain/pipeline/definition.js';
import { createPipelineRuntime } from '../src/pipelines/runtime.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';
import { scale } from './analytics-scale.js';
import { SERIES, STEPS, throughput } from './analytics-throughput.js';
import { fmt, report } from './report.js';
import { serviceLatency } from './service-latency.js';

const definition = PipelineDefinition.parse({
  id: 'bench',
  route: [{ name: '*' }],
  quality: { allowedLatenessMs: 0, requiredLabels: [] },
  analytics: {
    minAnomalyScore: 0.5, // the default: every far-beyond-normal spike is reported, repeated or not
    // Two stored shapes, as a pipeline watching for known failure signatures would have.
    patterns: [
      { name: 'square_wave', shape: [0, 0, 10, 10, 0, 0, 10, 10], maxDistance: 0.2 },
      {
        name: 'spike_then_dip',
        shape: [0, 1, 4, 9, 4, 1, 0, -2, -4, -2, 0, 0, 0, 0, 0, 0],
        maxDistance: 0.2,
      },
    ],
  },
});

// (1) Throughput, one core.
const parts = throughput(definition);
// (1b) 100,000 series: state per series, throughput and checkpoints at scale.
const large = await scale(definition);

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

// (4) The live path through the running service, over HTTP and graphql-ws.
const live = await serviceLatency();

const p50 = latencies.length ? quantile(latencies, 0.5) : Number.NaN;
const p99 = latencies.length ? quantile(latencies, 0.99) : Number.NaN;
const rate = (r: { median: number; low: number; high: number }) =>
  `${fmt(r.median)} (runs ${fmt(r.low)}–${fmt(r.high)})`;
report(
  'analytics',
  [
    ...parts.rows.map(([label, r]): [string, string] => [`${label}, samples/s`, rate(r)]),
    ['series × steps', `${SERIES} × ${STEPS}`],
    ['anomalies found (headline run)', String(parts.anomalies)],
    ['ingest → anomalyDetected in the log, p50 ms', fmt(p50, 1)],
    ['ingest → anomalyDetected in the log, p99 ms', fmt(p99, 1)],
    ['spikes detected', `${latencies.length} of 100`],
    ...large.rows.map(([label, v]): [string, string] => [label, fmt(v)]),
    [
      'service: ingestMetrics call → anomaly on graphql-ws, p50 / p99 ms',
      `${fmt(live.anomalyP50Ms, 1)} / ${fmt(live.anomalyP99Ms, 1)}`,
    ],
    [
      'service: ingestMetrics call → alert (no hold) on graphql-ws, p50 / p99 ms',
      `${fmt(live.alertP50Ms, 1)} / ${fmt(live.alertP99Ms, 1)}`,
    ],
    ['service: the ingestMetrics call itself (durable answer), p50 ms', fmt(live.answerP50Ms, 1)],
    ['service: spikes seen as anomaly / alert', `${live.anomalies} / ${live.alerts} of ${live.spikes}`],
    [
      'machine load (1, 5, 15 min)',
      loadavg()
        .map((l) => l.toFixed(2))
        .join(', '),
    ],
  ],
  {
    samplesPerSecondPerCore: Math.round(parts.headline),
    latencyP50Ms: Math.round(p50 * 10) / 10,
    latencyP99Ms: Math.round(p99 * 10) / 10,
    ...parts.figures,
    ...large.figures,
    serviceAnomalyP99Ms: Math.round(live.anomalyP99Ms * 10) / 10,
    serviceAlertP99Ms: Math.round(live.alertP99Ms * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  },
);
