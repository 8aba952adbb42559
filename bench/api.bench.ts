/**
 * API benchmark: the service in a child process (as `npm start` runs it), measured through its public
 * API with real clients.
 *
 * (1) Range queries: `--series S` series (default 100) × `--samples N` samples 10 s apart (default
 * 8,640: one day) written over OTLP/HTTP JSON, and once the `metric_series` projection holds them all,
 * `--clients C` concurrent clients (default 50) each asking `seriesRange` without pause for
 * `--seconds T` (default 10) per shape: one random series over one random hour at a 1-minute step (avg,
 * min, max), then one random series over the whole day at a 1-minute step with p99. The first answer of
 * each client is checked bucket by bucket against the values sent, every other one by its bucket count.
 *
 * (2) Fan-out: `--subscribers K` (default 1,000) graphql-ws subscriptions to `anomalyDetected` over
 * `--connections W` WebSocket connections (default 20; the server allows 100 operations per
 * connection). A pipeline analyses one metric; a baseline then a spike are sent with `ingestMetrics`,
 * and for every subscriber the time from the anomaly's creation in the log (its `createdAt`, read from
 * one more subscription, to `auditEvents`) to its delivery is taken, and the time from the spike's
 * ingest request. Not from the ingest answer: most subscribers have the anomaly before it is read.
 * One warm-up spike (every subscriber must receive it), then `--runs R` measured spikes (default 5);
 * the run with the median p99 is reported. Deliveries are timed in this process: parsing 1,000
 * messages in one event loop is part of the tail, as it would be for one client with 1,000 subscriptions.
 *
 * Prints a table; the last line is JSON with `rangeQueriesPerSecond`, `rangeQueryP50Ms`,
 * `rangeQueryP99Ms` (the hour shape), `dayQueriesPerSecond`, `dayQueryP50Ms`, `dayQueryP99Ms`,
 * `fanoutP50Ms`, `fanoutP99Ms`, `fanoutMaxMs` (from the anomaly's creation), `fanoutFromIngestP50Ms`,
 * `fanoutFromIngestP99Ms`, `spikeIngestMs`, `subscribers`, `clients`, `loadAvg1m`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { fmt, report } from './report.js';
import { benchKey, freePort, spawnService, untilAlive } from './service-child.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const SERIES = arg('series', 100);
const SAMPLES = arg('samples', 8640);
const CLIENTS = arg('clients', 50);
const SECONDS = arg('seconds', 10);
const SUBSCRIBERS = arg('subscribers', 1000);
const CONNECTIONS = arg('connections', 20);
const RUNS = arg('runs', 5);

const STEP_MS = 10_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const METRIC = 'bench_api_gauge';
const SPIKE_METRIC = 'bench_api_cpu';
const loadAtStart = loadavg();

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
/** The admin key this run's service accepts; the rate limit is out of the way (the API is measured, not the limiter). */
const KEY = benchKey();
const pipelinesFile = join(dir, 'pipelines.json');
const rulesFile = join(dir, 'rules.json');
writeFileSync(
  pipelinesFile,
  JSON.stringify([
    {
      id: 'detect',
      route: [{ name: SPIKE_METRIC }],
      quality: { allowedLatenessMs: 0, requiredLabels: [] },
      analytics: { minAnomalyScore: 0.5 },
    },
  ]),
);
writeFileSync(
  rulesFile,
  JSON.stringify([
    {
      id: 'cpu_anomaly',
      match: { name: SPIKE_METRIC },
      condition: { type: 'anomalyScore', min: 0.5 },
      severity: 'warning',
      groupBy: ['host'],
    },
  ]),
);
const child: ChildProcess = spawnService({
  port,
  dataDir: dir,
  key: KEY,
  env: {
    // The day of samples starts just over 24 h ago: the default bound on the past is exactly a day.
    INGEST_MAX_PAST_SECONDS: String(2 * 86_400),
    PIPELINES_FILE: pipelinesFile,
    ALERT_RULES_FILE: rulesFile,
  },
});
const stopChild = async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
};
process.once('uncaughtException', (error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
process.once('unhandledRejection', (error) => {
  process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});

const url = `http://127.0.0.1:${port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startedAt = performance.now();
await untilAlive(url, child);
const bootSeconds = (performance.now() - startedAt) / 1000;

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string }[];
}
async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GraphQLAnswer<T>;
  if (body.errors?.length || !body.data) throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body)}`);
  return body.data;
}

/** CPU seconds the service has used so far (user + system, from /proc). */
const serviceCpuSeconds = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
const round1 = (n: number) => Math.round(n * 10) / 10;

// ---------------------------------------------------------------------------------------------------
// (1) Range queries.

/** A deterministic value for series s at step i: a slow wave, a phase per series, hashed noise. */
function sampleValue(s: number, i: number): number {
  let h = Math.imul(s + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  const noise = (h >>> 0) / 4294967296;
  return Math.round((50 + 30 * Math.sin(i / 90 + s) + noise * 10) * 100) / 100;
}
const dayEnd = Math.floor((Date.now() - 2 * MINUTE) / MINUTE) * MINUTE;
const dayStart = dayEnd - SAMPLES * STEP_MS;

const writeStarted = performance.now();
const SERIES_PER_REQUEST = Math.max(1, Math.floor(20_000 / SAMPLES));
let nextSeries = 0;
let otlp503 = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (nextSeries < SERIES) {
      const first = nextSeries;
      nextSeries = Math.min(SERIES, first + SERIES_PER_REQUEST);
      const dataPoints: unknown[] = [];
      for (let s = first; s < nextSeries; s++)
        for (let i = 0; i < SAMPLES; i++)
          dataPoints.push({
            asDouble: sampleValue(s, i),
            timeUnixNano: `${dayStart + i * STEP_MS}000000`,
            attributes: [{ key: 'series', value: { stringValue: String(s) } }],
          });
      const body = JSON.stringify({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: METRIC, gauge: { dataPoints } }] }] }],
      });
      for (;;) {
        const res = await fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body,
        });
        const text = await res.text();
        if (res.status === 503) {
          otlp503++;
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 200);
          continue;
        }
        if (res.status !== 200) throw new Error(`OTLP answered ${res.status}: ${text}`);
        const rejected = (JSON.parse(text) as { partialSuccess?: { rejectedDataPoints?: string | number } })
          .partialSuccess?.rejectedDataPoints;
        if (Number(rejected ?? 0) > 0) throw new Error(`OTLP rejected points: ${text}`);
        break;
      }
    }
  }),
);
const writtenAt = performance.now();
// The projection has caught up when ClickHouse counts every sample sent.
const COUNT = `query ($from: DateTime!, $to: DateTime!) {
  seriesAggregate(selector: { name: "${METRIC}" }, from: $from, to: $to, fn: COUNT) { value } }`;
const total = SERIES * SAMPLES;
for (let waited = 0; ; waited += 250) {
  const { seriesAggregate } = await gql<{ seriesAggregate: { value: number }[] }>(COUNT, {
    from: new Date(dayStart).toISOString(),
    to: new Date(dayEnd).toISOString(),
  });
  if (seriesAggregate[0]?.value === total) break;
  if (waited > 120_000)
    throw new Error(`projection still at ${seriesAggregate[0]?.value ?? 0} of ${total} samples after 120 s`);
  await sleep(250);
}
const queryableAt = performance.now();

const RANGE = `query ($selector: SeriesSelector!, $from: DateTime!, $to: DateTime!, $stepMs: Int, $functions: [SeriesFunction!]) {
  seriesRange(selector: $selector, from: $from, to: $to, stepMs: $stepMs, functions: $functions) {
    series { id } buckets { ts count sum min max avg p99 fromRollups } } }`;
interface BucketAnswer {
  ts: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
  p99: number | null;
  fromRollups: boolean;
}
interface Shape {
  readonly name: string;
  readonly functions: readonly string[];
  /** A random query of this shape: the series and the range. */
  pick(): { series: number; from: number; to: number };
}
const shapes: Shape[] = [
  {
    name: '1 h at 1 min, avg/min/max',
    functions: ['AVG', 'MIN', 'MAX'],
    pick: () => {
      const from = dayStart + Math.floor(Math.random() * ((dayEnd - dayStart - HOUR) / MINUTE + 1)) * MINUTE;
      return { series: Math.floor(Math.random() * SERIES), from, to: from + HOUR };
    },
  },
  {
    name: '24 h at 1 min, p99',
    functions: ['P99'],
    pick: () => ({ series: Math.floor(Math.random() * SERIES), from: dayStart, to: dayEnd }),
  },
];

/** The buckets the service must answer for series s over [from, to), computed from the values sent. */
function expectedBuckets(s: number, from: number, to: number, withP99: boolean) {
  const byBucket = new Map<number, number[]>();
  for (let i = 0; i < SAMPLES; i++) {
    const ts = dayStart + i * STEP_MS;
    if (ts < from || ts >= to) continue;
    const b = Math.floor(ts / MINUTE) * MINUTE;
    const list = byBucket.get(b) ?? [];
    byBucket.set(b, list);
    list.push(sampleValue(s, i));
  }
  return [...byBucket].map(([ts, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const sum = values.reduce((a, v) => a + v, 0);
    return {
      ts,
      count: values.length,
      sum,
      min: sorted[0]!,
      max: sorted.at(-1)!,
      avg: sum / values.length,
      // Nearest rank, as the service defines its exact quantiles.
      p99: withP99 ? sorted[Math.max(1, Math.ceil(0.99 * sorted.length)) - 1]! : null,
    };
  });
}
const close = (a: number | null, b: number | null, relative = 1e-9) =>
  a === b || (a !== null && b !== null && Math.abs(a - b) <= relative * Math.max(1, Math.abs(b)));

/** Checks an answer against the values sent; returns what differs, or null. */
function check(
  shape: Shape,
  q: { series: number; from: number; to: number },
  answer: { buckets: BucketAnswer[] | null }[],
) {
  const want = expectedBuckets(q.series, q.from, q.to, shape.functions.includes('P99'));
  const got = answer[0]?.buckets ?? [];
  if (answer.length !== 1) return `expected 1 series, got ${answer.length}`;
  if (got.length !== want.length) return `expected ${want.length} buckets, got ${got.length}`;
  for (const [k, w] of want.entries()) {
    const g = got[k]!;
    const same =
      Date.parse(g.ts) === w.ts &&
      g.count === w.count &&
      close(g.sum, w.sum) &&
      close(g.min, w.min) &&
      close(g.max, w.max) &&
      close(g.avg, w.avg) &&
      // Quantiles are exact from raw samples; from rollups they come from ClickHouse t-digests, whose
      // centroids are Float32: exact ranks, values to single precision.
      close(g.p99, w.p99, g.fromRollups ? 1e-6 : 1e-9);
    if (!same) return `bucket ${k}: expected ${JSON.stringify(w)}, got ${JSON.stringify(g)}`;
  }
  return null;
}

interface ShapeResult {
  readonly queries: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly errors: number;
  readonly verified: number;
  readonly fromRollups: number;
  readonly serviceCpu: number;
  readonly benchCpu: number;
}
async function runShape(shape: Shape): Promise<ShapeResult> {
  const latencies: number[] = [];
  let errors = 0;
  let verified = 0;
  let fromRollups = 0;
  let firstError: string | null = null;
  const cpu0 = serviceCpuSeconds();
  const own0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const q = shape.pick();
        const variables = {
          selector: { name: METRIC, matchers: [{ label: 'series', op: 'EQ', value: String(q.series) }] },
          from: new Date(q.from).toISOString(),
          to: new Date(q.to).toISOString(),
          stepMs: MINUTE,
          functions: shape.functions,
        };
        const t = performance.now();
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ query: RANGE, variables }),
        });
        const body = (await res.json()) as GraphQLAnswer<{
          seriesRange: { buckets: BucketAnswer[] | null }[];
        }>;
        latencies.push(performance.now() - t);
        const answer = body.data?.seriesRange;
        let problem: string | null = null;
        if (!answer || body.errors?.length) problem = `${res.status} ${JSON.stringify(body.errors)}`;
        else if (n === 0) {
          // Each client's first answer, bucket by bucket; the others by their bucket count.
          problem = check(shape, q, answer);
          if (!problem) verified++;
        } else if (answer[0]?.buckets?.length !== (q.to - q.from) / MINUTE)
          problem = `expected ${(q.to - q.from) / MINUTE} buckets, got ${answer[0]?.buckets?.length}`;
        if (answer?.[0]?.buckets?.some((b) => b.fromRollups)) fromRollups++;
        if (problem) {
          errors++;
          firstError ??= `client ${c}, ${shape.name}: ${problem}`;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(own0);
  if (firstError) throw new Error(`wrong answers (${errors}); the first: ${firstError}`);
  latencies.sort((a, b) => a - b);
  return {
    queries: latencies.length,
    seconds,
    latencies,
    errors,
    verified,
    fromRollups,
    serviceCpu: (serviceCpuSeconds() - cpu0) / seconds,
    benchCpu: (own.user + own.system) / 1e6 / seconds,
  };
}
const hourShape = await runShape(shapes[0]!);
const dayShape = await runShape(shapes[1]!);

// ---------------------------------------------------------------------------------------------------
// (2) Fan-out of one anomaly to many subscribers.

const wsClients: Client[] = Array.from({ length: CONNECTIONS }, () =>
  createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    connectionParams: { authorization: `Bearer ${KEY}` },
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
  }),
);
/** For every subscriber, when (performance.now()) each anomaly value first reached it. */
const deliveries: Map<number, number>[] = Array.from({ length: SUBSCRIBERS }, () => new Map());
/** The log position of each anomaly value, and when each anomaly was appended (epoch ms, the service's clock). */
const positionOf = new Map<number, string>();
const createdAt = new Map<string, number>();
const subscriptionErrors: unknown[] = [];
const observe = (error: unknown) => subscriptionErrors.push(error);
const disposers = deliveries.map((seen, k) =>
  wsClients[k % CONNECTIONS]!.subscribe<{ anomalyDetected: { value: number; position: string } }>(
    {
      query:
        'subscription { anomalyDetected(pipelineId: "detect", minScore: 0.5) { name value score ts position } }',
    },
    {
      next: (result) => {
        const at = performance.now();
        const anomaly = result.data?.anomalyDetected;
        if (!anomaly || seen.has(anomaly.value)) return;
        seen.set(anomaly.value, at);
        if (!positionOf.has(anomaly.value)) positionOf.set(anomaly.value, anomaly.position);
      },
      error: observe,
      complete: () => {},
    },
  ),
);
// One more subscriber, on its own connection, learns when each anomaly was appended to the log: the
// audit feed shows every event's creation time (the Anomaly type has none).
const auditClient = createClient({
  url: `${url.replace(/^http/, 'ws')}/graphql`,
  connectionParams: { authorization: `Bearer ${KEY}` },
  webSocketImpl: WebSocket,
  retryAttempts: 0,
});
const disposeAudit = auditClient.subscribe<{ auditEvents: { position: string; createdAt: string } }>(
  { query: 'subscription { auditEvents(filter: { types: ["anomalyDetected"] }) { position createdAt } }' },
  {
    next: (result) => {
      const event = result.data?.auditEvents;
      if (event) createdAt.set(event.position, Date.parse(event.createdAt));
    },
    error: observe,
    complete: () => {},
  },
);

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } } }`;
let tick = Date.now() - 2 * HOUR;
const sample = (value: number) => {
  tick += 1000;
  return {
    name: SPIKE_METRIC,
    labels: [{ name: 'host', value: 'bench' }],
    kind: 'gauge',
    value,
    timestamp: new Date(tick).toISOString(),
  };
};
async function ingest(samples: unknown[]) {
  const { ingestMetrics } = await gql<{
    ingestMetrics: { accepted?: number; code?: string; message?: string };
  }>(INGEST, { samples });
  if (ingestMetrics.accepted !== samples.length)
    throw new Error(`ingestMetrics: ${JSON.stringify(ingestMetrics)}`);
}
/**
 * A baseline past the detectors' damping period, then a spike: for every subscriber that received it,
 * the time from the anomaly's creation in the log, and from the spike's ingest request, to delivery.
 */
async function spike(run: number, timeoutMs: number) {
  const baselineSent = performance.now();
  await ingest(Array.from({ length: 160 }, (_, i) => sample(40 + Math.sin(i) * 2)));
  const baselineMs = performance.now() - baselineSent;
  await sleep(300); // the baseline analysed: only the spike is in flight
  const value = 5000 * (run + 1);
  const wallOffset = Date.now() - performance.now();
  const sent = performance.now();
  await ingest([sample(value)]);
  const answered = performance.now();
  const deadline = answered + timeoutMs;
  const created = () => createdAt.get(positionOf.get(value) ?? '');
  while (
    performance.now() < deadline &&
    (created() === undefined || deliveries.some((seen) => !seen.has(value)))
  )
    await sleep(5);
  const got = deliveries.flatMap((seen) => (seen.has(value) ? [seen.get(value)!] : []));
  const t0 = created() ?? Number.NaN;
  await sleep(200); // anything else the spike causes has passed before the next run
  return {
    fromCreated: got.map((at) => at + wallOffset - t0).sort((a, b) => a - b),
    fromSent: got.map((at) => at - sent).sort((a, b) => a - b),
    beforeAnswer: got.filter((at) => at < answered).length,
    ingestMs: answered - sent,
    baselineMs,
    createdAfterSentMs: t0 - (sent + wallOffset),
  };
}
// Warm-up: every subscription must be live (it has received one anomaly) before anything is measured.
await sleep(1000);
const warmUp = await spike(0, 20_000);
if (warmUp.fromSent.length !== SUBSCRIBERS)
  throw new Error(
    `warm-up anomaly reached ${warmUp.fromSent.length} of ${SUBSCRIBERS} subscribers (${JSON.stringify(subscriptionErrors.slice(0, 3))})`,
  );
const runs: Awaited<ReturnType<typeof spike>>[] = [];
for (let run = 1; run <= RUNS; run++) runs.push(await spike(run, 10_000));
for (const dispose of disposers) dispose();
disposeAudit();
await Promise.all([...wsClients, auditClient].map((c) => c.dispose()));
const isComplete = (r: (typeof runs)[number]) =>
  r.fromCreated.length === SUBSCRIBERS && Number.isFinite(r.fromCreated[0]!);
const complete = runs.filter(isComplete);
if (!complete.length) throw new Error('no measured anomaly reached every subscriber');
const byP99 = [...complete].sort((a, b) => pct(a.fromCreated, 0.99) - pct(b.fromCreated, 0.99));
const medianRun = byP99[Math.floor((byP99.length - 1) / 2)]!;

const load = loadavg();
await stopChild();
rmSync(dir, { recursive: true, force: true });

const ms = (n: number) => fmt(n, 1);
const shapeRows = (label: string, r: ShapeResult): [string, string][] => [
  [`${label}: queries/s`, fmt(r.queries / r.seconds)],
  [
    `${label}: latency p50 / p99 / max, ms`,
    `${ms(pct(r.latencies, 0.5))} / ${ms(pct(r.latencies, 0.99))} / ${ms(r.latencies.at(-1) ?? 0)}`,
  ],
  [
    `${label}: answers checked exactly / served from rollups`,
    `${fmt(r.verified)} / ${fmt(r.fromRollups)} of ${fmt(r.queries)}`,
  ],
  [`${label}: CPU cores used, service / bench`, `${fmt(r.serviceCpu, 2)} / ${fmt(r.benchCpu, 2)}`],
];
const runP99s = runs.map((r) =>
  isComplete(r) ? ms(pct(r.fromCreated, 0.99)) : `${r.fromCreated.length} reached`,
);
report(
  'api',
  [
    ['machine', `${cpus().length} cores, load ${loadAtStart.map((l) => fmt(l, 2)).join(' ')} at start`],
    ['service boot, s', fmt(bootSeconds, 1)],
    [
      'samples written over OTLP/HTTP JSON',
      `${fmt(total)} (${fmt(SERIES)} series × ${fmt(SAMPLES)}, ${fmt(otlp503)} × 503 retried)`,
    ],
    [
      'written / queryable after, s',
      `${fmt((writtenAt - writeStarted) / 1000, 1)} / ${fmt((queryableAt - writeStarted) / 1000, 1)}`,
    ],
    ['range clients × seconds per shape', `${CLIENTS} × ${SECONDS}`],
    ...shapeRows('1 h @ 1 min avg/min/max', hourShape),
    ...shapeRows('24 h @ 1 min p99', dayShape),
    ['subscribers (connections)', `${fmt(SUBSCRIBERS)} (${CONNECTIONS})`],
    [
      'ingest call: baseline (no anomaly) / spike; anomaly appended after, ms',
      `${ms(medianRun.baselineMs)} / ${ms(medianRun.ingestMs)}; ${ms(medianRun.createdAfterSentMs)}`,
    ],
    [
      'fan-out from the anomaly appended, first / p50 / p99 / max, ms',
      `${ms(medianRun.fromCreated[0]!)} / ${ms(pct(medianRun.fromCreated, 0.5))} / ${ms(pct(medianRun.fromCreated, 0.99))} / ${ms(medianRun.fromCreated.at(-1)!)}`,
    ],
    [
      'from the spike ingest request sent, p50 / p99 / max, ms',
      `${ms(pct(medianRun.fromSent, 0.5))} / ${ms(pct(medianRun.fromSent, 0.99))} / ${ms(medianRun.fromSent.at(-1)!)}`,
    ],
    ['delivered before the ingest answer was read', `${fmt(medianRun.beforeAnswer)} of ${fmt(SUBSCRIBERS)}`],
    ['fan-out p99 of each run, ms', runP99s.join(', ')],
    ['load average at the end (1 / 5 / 15 min)', load.map((l) => fmt(l, 2)).join(' / ')],
  ],
  {
    rangeQueriesPerSecond: Math.round(hourShape.queries / hourShape.seconds),
    rangeQueryP50Ms: round1(pct(hourShape.latencies, 0.5)),
    rangeQueryP99Ms: round1(pct(hourShape.latencies, 0.99)),
    dayQueriesPerSecond: Math.round(dayShape.queries / dayShape.seconds),
    dayQueryP50Ms: round1(pct(dayShape.latencies, 0.5)),
    dayQueryP99Ms: round1(pct(dayShape.latencies, 0.99)),
    fanoutFirstMs: round1(medianRun.fromCreated[0]!),
    fanoutP50Ms: round1(pct(medianRun.fromCreated, 0.5)),
    fanoutP99Ms: round1(pct(medianRun.fromCreated, 0.99)),
    fanoutMaxMs: round1(medianRun.fromCreated.at(-1)!),
    fanoutFromIngestP50Ms: round1(pct(medianRun.fromSent, 0.5)),
    fanoutFromIngestP99Ms: round1(pct(medianRun.fromSent, 0.99)),
    spikeIngestMs: round1(medianRun.ingestMs),
    fanoutRuns: runs.length,
    fanoutRunsComplete: complete.length,
    subscribers: SUBSCRIBERS,
    connections: CONNECTIONS,
    clients: CLIENTS,
    samples: total,
    cores: cpus().length,
    loadAvg1m: round1(load[0]!),
    loadAvg1mAtStart: round1(loadAtStart[0]!),
  },
);
