/**
 * End-to-end ingest benchmark on the embedded default: collection agent → event log (SQLite) → metric
 * series projection → queryable in ClickHouse (chDB). 10M samples over 1,000 series by default
 * (`--samples N`), with a realistic mix: noisy gauges with 1–2 decimals, monotonic counters,
 * near-constant series and full-precision floats.
 *
 * `--mode sdk` (default): the in-process SDK recording into the agent's buffer, made durable by
 * `flush()` (its point of durability). `--mode push`: the durable path of OTLP and `ingestMetrics`
 * without HTTP: requests of `--request N` samples (default 5,000) from `--clients C` concurrent clients
 * (default 8), each answered only once its samples are in the log. `--mode service`: OTLP/HTTP through
 * the running service in a child process, from a separate load-generator process with `--clients C`
 * concurrent clients (default 8) sending `--request N`-point requests (default 5,000) over 1,000 series
 * for `--seconds S` per run (default 8), protobuf then JSON, with the default analysis off and on (see
 * `bench/ingest-service.ts`). `npm run bench:ingest` runs all three. Prints a table; the last line is
 * JSON with `samplesPerSecond` and `bytesPerSample` (compressed bytes of the samples table over its
 * rows), or for `--mode service` `serviceSamplesPerSecondProtobuf`, `serviceSamplesPerSecondJson`
 * (and their `…Analysed` variants), `serviceCpuSeconds` and `generatorCpuSeconds`.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { agentKind } from '../src/actors/agent.kind.js';
import { createActorHost } from '../src/actors/host.js';
import { createCollectionAgent, type SampleInput, type SeriesHandle } from '../src/collection/agent.js';
import { createRandom } from '../src/domain/random.js';
import { metricSeriesProjection } from '../src/projections/metric-series/index.js';
import { createProjectionRunner } from '../src/projections/runner.js';
import { openAnalyticsStore, queryRows } from '../src/stores/clickhouse/client.js';
import { migrate } from '../src/stores/clickhouse/migrations.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';
import { fmt, report } from './report.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const TOTAL = arg('samples', 10_000_000);
const SERIES = arg('series', 1000);
const STEPS = Math.ceil(TOTAL / SERIES);
const MODE = process.argv.includes('--mode') ? process.argv[process.argv.indexOf('--mode') + 1] : 'sdk';
const REQUEST = arg('request', 5000);
const CLIENTS = arg('clients', 8);
if (MODE !== 'push' && MODE !== 'sdk' && MODE !== 'service')
  throw new Error('--mode must be push, sdk or service');
if (MODE === 'service') {
  const { serviceIngest } = await import('./ingest-service.js');
  await serviceIngest({ clients: CLIENTS, points: REQUEST, series: SERIES, seconds: arg('seconds', 8) });
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
const logger = pino({ level: 'warn' });
const events = createSqliteEventStore({ path: join(dir, 'events.db') });
const analytics = await openAnalyticsStore({ database: 'bench', dataDir: join(dir, 'clickhouse') });
await migrate(analytics, logger);
const host = createActorHost({ store: events, kinds: [agentKind()], logger });
const agent = createCollectionAgent({
  id: 'bench',
  events,
  host,
  logger,
  spoolDir: join(dir, 'spool'),
  batchMaxSamples: 100_000,
  batchMaxDelayMs: 1000,
  bufferCapacity: 2_000_000,
});
const runner = createProjectionRunner({
  projection: metricSeriesProjection(),
  events,
  analytics,
  logger,
  batchSize: 20,
  maxBatchDelayMs: 200,
});
await agent.start(['event']);
await runner.start();

// A deterministic generator so every run stores the same data.
const seeded = createRandom(42);
const random = () => seeded.next();

type Kind = 'gauge' | 'counter' | 'constant' | 'float';
const kinds: Kind[] = Array.from({ length: SERIES }, (_, i) =>
  i % 20 < 8 ? 'gauge' : i % 20 < 14 ? 'counter' : i % 20 < 17 ? 'constant' : 'float',
);
const handles: SeriesHandle[] = kinds.map((kind, i) =>
  agent.series({
    name: `bench_${kind}`,
    labels: { instance: `host-${i % 50}`, shard: String(i) },
    kind: kind === 'counter' ? 'counter' : 'gauge',
  }),
);
const state = kinds.map((kind, i) => (kind === 'counter' ? 0 : kind === 'constant' ? 100 + (i % 7) : 50));
const decimals = kinds.map((_, i) => (i % 2 === 0 ? 10 : 100));
const t0 = Date.now() - STEPS * 1000 - 60_000;

/** The next sample of series s at step `step` (the same sequence in both modes). */
function valueAt(s: number, step: number): number {
  switch (kinds[s]) {
    case 'gauge':
      state[s] = Math.min(100, Math.max(0, state[s]! + (random() - 0.5) * 4));
      return Math.round(state[s]! * decimals[s]!) / decimals[s]!;
    case 'counter':
      state[s]! += Math.floor(random() * 10);
      return state[s]!;
    case 'constant':
      if (random() < 0.001) state[s] = 100 + Math.floor(random() * 7);
      return state[s]!;
    default:
      return Math.sin(step / 50 + s) * 1000 + random();
  }
}

const started = performance.now();
let recorded = 0;
if (MODE === 'sdk') {
  for (let step = 0; step < STEPS && recorded < TOTAL; step++) {
    const ts = t0 + step * 1000;
    for (let s = 0; s < SERIES && recorded < TOTAL; s++) {
      const value = valueAt(s, step);
      while (!agent.record(handles[s]!, value, ts)) await agent.flush(); // backpressure: wait for room
      recorded++;
    }
    if (step % 100 === 99) await new Promise((r) => setImmediate(r));
  }
} else {
  const inputs = handles.map((h) => ({ name: h.def.name, labels: h.def.labels, kind: h.def.kind }));
  let cursor = 0;
  const nextRequest = (): SampleInput[] | null => {
    if (cursor >= TOTAL) return null;
    const out: SampleInput[] = [];
    for (; out.length < REQUEST && cursor < TOTAL; cursor++) {
      const step = Math.floor(cursor / SERIES);
      const s = cursor % SERIES;
      out.push({ ...inputs[s]!, value: valueAt(s, step), timestamp: t0 + step * 1000 });
    }
    return out;
  };
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let samples = nextRequest(); samples; samples = nextRequest()) {
        const batch = samples;
        for (;;) {
          try {
            await agent.push({ prepare: () => ({ samples: batch, respond: (r) => r.accepted }) });
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'BACKPRESSURE') throw error;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
        recorded += batch.length;
      }
    }),
  );
}
const recordedAt = performance.now();
await agent.flush();
const flushedAt = performance.now();
await runner.waitFor();
const finished = performance.now();

const [count] = await queryRows<{ n: string }>(analytics, 'SELECT count() AS n FROM bench.samples');
if (count?.n !== String(TOTAL)) throw new Error(`expected ${TOTAL} samples in ClickHouse, found ${count?.n}`);
await analytics.client.command({ query: 'OPTIMIZE TABLE bench.samples FINAL' });
const [parts] = await queryRows<{ bytes: string; rows: string }>(
  analytics,
  "SELECT sum(data_compressed_bytes) AS bytes, sum(rows) AS rows FROM system.parts WHERE database = 'bench' AND table = 'samples' AND active",
);
const columns = await queryRows<{ name: string; bytes: string }>(
  analytics,
  "SELECT name, data_compressed_bytes AS bytes FROM system.columns WHERE database = 'bench' AND table = 'samples' AND data_compressed_bytes > 0",
);
const seconds = (finished - started) / 1000;
const samplesPerSecond = TOTAL / seconds;
const bytesPerSample = Number(parts!.bytes) / Number(parts!.rows);
const health = agent.health();

await agent.stop();
await runner.stop();
await host.stop();
await analytics.close();
await events.close();
if (process.env.BENCH_KEEP) process.stderr.write(`kept ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });

report(
  `ingest-${MODE}`,
  [
    [
      'mode',
      MODE === 'push'
        ? `push: ${fmt(CLIENTS)} clients × ${fmt(REQUEST)}-sample requests, each durable before answered`
        : 'sdk: buffer, then flush()',
    ],
    ['samples (series)', `${fmt(TOTAL)} (${fmt(SERIES)})`],
    ['recording (until the last answer / into the buffer), s', fmt((recordedAt - started) / 1000, 2)],
    ['until the last batch is in the log, s', fmt((flushedAt - started) / 1000, 2)],
    ['until queryable in ClickHouse, s', fmt(seconds, 2)],
    ['end-to-end samples/s', fmt(samplesPerSecond)],
    ['batches (max flush latency ms)', `${fmt(health.batchesFlushed)} (${fmt(health.maxFlushLatencyMs)})`],
    ['ClickHouse bytes per sample', fmt(bytesPerSample, 3)],
    ...columns.map(
      (c) => [`  column ${c.name}, bytes/sample`, fmt(Number(c.bytes) / TOTAL, 3)] as [string, string],
    ),
  ],
  {
    mode: MODE,
    samples: TOTAL,
    series: SERIES,
    samplesPerSecond: Math.round(samplesPerSecond),
    bytesPerSample: Math.round(bytesPerSample * 1000) / 1000,
  },
);
