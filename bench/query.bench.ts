/**
 * Query benchmark: the metric-series query functions the API serves, side by side with Prometheus on
 * the same data when `prometheus` and `promtool` are installed (the project alone otherwise, or with
 * QUERY_BENCH_PROMETHEUS=0).
 *
 * Data: QUERY_BENCH_SERIES series (default 100) × QUERY_BENCH_SAMPLES samples (default 100,000) at
 * 10 s, ending at the last midnight (UTC): a quarter each of noisy 1–2-decimal gauges, counters (with
 * resets), near-constant series and full-precision floats, from the project's seeded generator.
 * Loaded into embedded chDB through the projection's encode path (the rollups kept by their views),
 * and written as one OpenMetrics file for `promtool tsdb create-blocks-from openmetrics`.
 *
 * Queries (QUERY_BENCH_RUNS runs each, default 20, interleaved with Prometheus, medians):
 *   q1  one series, 1 h → 1-minute avg/min/max          (seriesRange)
 *   q2  one series, 1 day → 1-minute avg/max/p99         (seriesRange with p99)
 *   q3  top-10 of all series by p99 over a day           (aggregate, topK)
 *   q4  correlation of two series over a day, 1-minute  (correlate)
 *
 * Alignment with Prometheus: this product's buckets are [t, t + step); Prometheus 2.x range selectors
 * are closed, [T − range, T]. Prometheus is asked at T = t + step − 1 ms with a range of step − 1 ms,
 * which covers [t, t + step − 1] — the same samples, timestamps being whole milliseconds. The same for
 * the one-window queries (q3 at to − 1 ms over to − from − 1 ms). Prometheus gets the functions of one
 * answer as concurrent HTTP queries (it has one function per expression), and q4's Pearson's r is
 * computed by the client from two concurrent range queries (PromQL has no correlation).
 * Checks: averages, minima, maxima and r agree within 1e-9 (relative); p99 within 2% (Prometheus
 * interpolates between ranks, the product takes the nearest rank, exactly or from merged digests).
 *
 * Prints a table, writes bench/results/query.json, and one JSON object on the last line.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { defineSeries } from '../src/domain/metrics/identity.js';
import type { SeriesDef } from '../src/domain/metrics/kinds.js';
import { createRandom } from '../src/domain/random.js';
import { encodeSamples, SAMPLE_COLUMNS } from '../src/projections/metric-series/encode.js';
import { aggregate, correlate, seriesRange } from '../src/projections/metric-series/queries.js';
import { openAnalyticsStore, queryRows } from '../src/stores/clickhouse/client.js';
import { migrate } from '../src/stores/clickhouse/migrations.js';
import { fmt, median, report } from './report.js';

const SERIES = Number(process.env.QUERY_BENCH_SERIES ?? 100);
const SAMPLES = Number(process.env.QUERY_BENCH_SAMPLES ?? 100_000);
const RUNS = Number(process.env.QUERY_BENCH_RUNS ?? 20);
const STEP = 10_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const END = Math.floor(Date.now() / DAY) * DAY;
const START = END - SAMPLES * STEP;
const SHAPES = ['gauge', 'counter', 'constant', 'float'] as const;
if (SAMPLES * STEP < 3 * DAY) throw new Error('QUERY_BENCH_SAMPLES must span three days (25,920+)');

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'bench-query-'));
const log = (message: string) => process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------- data
const defs: SeriesDef[] = Array.from({ length: SERIES }, (_, i) =>
  defineSeries({
    name: 'bench_value',
    labels: { instance: `s${String(i).padStart(3, '0')}`, shape: SHAPES[i % 4]! },
    kind: SHAPES[i % 4] === 'counter' ? 'counter' : 'gauge',
  }),
);

/** The samples of series i, the same for the same i (its own seeded stream). */
function generate(i: number): Float64Array {
  const random = createRandom(20_261_206 + i);
  const common = createRandom(7); // a component shared by the gauges, so they correlate
  const normal = (r: typeof random) =>
    Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
  const out = new Float64Array(SAMPLES);
  const shape = SHAPES[i % 4]!;
  const decimals = i % 8 < 4 ? 2 : 1;
  let level = 50 + i;
  let counter = 0;
  for (let k = 0; k < SAMPLES; k++) {
    const shared = normal(common);
    if (shape === 'gauge') {
      level += 0.05 * normal(random) + 0.02 * shared;
      const v = level + 3 * Math.sin((2 * Math.PI * k) / 8640) + 2 * shared + normal(random);
      out[k] = Math.round(v * 10 ** decimals) / 10 ** decimals;
    } else if (shape === 'counter') {
      counter = random.next() < 1e-5 ? 0 : counter + random.int(20);
      out[k] = counter;
    } else if (shape === 'constant') {
      out[k] = random.next() < 0.01 ? 100.5 : 100;
    } else {
      out[k] = 1000 * Math.sin(k / 1000 + i) + random.next() * (1 + i);
    }
  }
  return out;
}

// ---------------------------------------------------------------- load
const analytics = await openAnalyticsStore({ database: 'bench_query', dataDir: join(dir, 'clickhouse') });
await migrate(analytics, logger);
await analytics.client.insert({
  table: analytics.table('series'),
  values: defs.map((d) => ({
    series_id: d.id,
    name: d.name,
    family: d.family,
    kind: d.kind,
    role: d.role,
    unit: d.unit,
    labels: d.labels,
  })),
  format: 'JSONEachRow',
});

const promtool = (() => {
  if (process.env.QUERY_BENCH_PROMETHEUS === '0') return false;
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const metricsFile = join(dir, 'data.om.txt');
const fd = promtool ? openSync(metricsFile, 'w') : -1;
if (promtool) writeSync(fd, '# TYPE bench_value gauge\n');

let loadMs = 0;
let writeMs = 0;
const PER_INSERT = Math.max(1, Math.floor(1_000_000 / SAMPLES));
for (let first = 0; first < SERIES; first += PER_INSERT) {
  const members = defs.slice(first, first + PER_INSERT);
  const n = members.length * SAMPLES;
  const seriesIndex = new Uint32Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  members.forEach((def, local) => {
    const v = generate(first + local);
    const at = local * SAMPLES;
    values.set(v, at);
    seriesIndex.fill(local, at, at + SAMPLES);
    for (let k = 0; k < SAMPLES; k++) timestamps[at + k] = START + k * STEP;
    if (promtool) {
      const started = performance.now();
      const prefix = `bench_value{instance="${def.labels.instance}",shape="${def.labels.shape}"} `;
      let chunk = '';
      for (let k = 0; k < SAMPLES; k++) {
        chunk += `${prefix}${v[k]} ${(START + k * STEP) / 1000}\n`;
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      writeSync(fd, chunk);
      writeMs += performance.now() - started;
    }
  });
  const started = performance.now();
  const { block } = encodeSamples([
    {
      batch: { agentId: 'bench', seq: first, series: members, seriesIndex, timestamps, values },
      position: BigInt(first + 1),
    },
  ]);
  await analytics.insertNative('samples', SAMPLE_COLUMNS, block);
  loadMs += performance.now() - started;
}
{
  const started = performance.now();
  for (const table of ['samples', 'samples_1m', 'samples_1h'])
    await analytics.client.command({ query: `OPTIMIZE TABLE ${analytics.table(table)} FINAL` });
  loadMs += performance.now() - started;
}
log(
  `loaded ${fmt(SERIES * SAMPLES)} samples into chDB in ${fmt(loadMs / 1000, 1)} s (rollups and merges included)`,
);

// ---------------------------------------------------------------- prometheus
let prometheus: ChildProcess | null = null;
let promUrl = '';
let blockMs = 0;
if (promtool) {
  writeSync(fd, '# EOF\n');
  closeSync(fd);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  const tsdb = join(dir, 'tsdb');
  const started = performance.now();
  const range = `${Math.ceil((SAMPLES * STEP) / HOUR) + 48}h`;
  try {
    execFileSync(
      'promtool',
      ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration', range, metricsFile, tsdb],
      { stdio: 'ignore' },
    );
  } catch {
    execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', metricsFile, tsdb], {
      stdio: 'ignore',
    });
  }
  blockMs = performance.now() - started;
  rmSync(metricsFile, { force: true });
  const port = 19_090 + Math.floor(Math.random() * 500);
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    'prometheus',
    [
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      '--storage.tsdb.retention.time=3650d',
      '--log.level=error',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${promUrl}/-/ready`)).ok) break;
    } catch {}
    if (i > 600) throw new Error('prometheus did not get ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  log(
    `wrote the OpenMetrics file in ${fmt(writeMs / 1000, 1)} s; promtool built the blocks in ${fmt(blockMs / 1000, 1)} s`,
  );
}

async function prom(path: string, params: Record<string, string | number>): Promise<PromResult[]> {
  const body = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const response = await fetch(`${promUrl}/api/v1/${path}`, { method: 'POST', body });
  const json = (await response.json()) as { status: string; data: { result: PromResult[] }; error?: string };
  if (json.status !== 'success') throw new Error(`prometheus: ${json.error}`);
  return json.data.result;
}
interface PromResult {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}
const promRange = (expr: string, from: number, to: number, step: number) =>
  prom('query_range', {
    query: expr,
    start: (from + step - 1) / 1000,
    end: (to - 1) / 1000,
    step: step / 1000,
  });

// ---------------------------------------------------------------- queries
const A = defs[0]!;
const B = defs[Math.min(4, SERIES - 1)]!;
const sel = (d: SeriesDef) => `bench_value{instance="${d.labels.instance}"}`;
// A dashboard's ranges, on step boundaries (q3, one window, has edges inside minutes: raw samples there).
const q1 = { from: END - 2 * DAY - 5 * HOUR - 17 * MIN, to: END - 2 * DAY - 4 * HOUR - 17 * MIN };
const q2 = { from: END - DAY - 9 * HOUR - 23 * MIN, to: END - 9 * HOUR - 23 * MIN };
const q3 = { from: END - DAY - 3 * HOUR - 7 * MIN - 13_250, to: END - 3 * HOUR - 7 * MIN - 13_250 };
const q4 = { from: END - 2 * DAY - 11 * MIN, to: END - DAY - 11 * MIN };

type Check = (label: string, actual: number, expected: number, relative: number) => void;
const mismatches: string[] = [];
let compared = 0;
const check: Check = (label, actual, expected, relative) => {
  compared++;
  if (!(Math.abs(actual - expected) <= relative * Math.abs(expected) + 1e-9))
    if (mismatches.length < 10) mismatches.push(`${label}: product ${actual}, prometheus ${expected}`);
};

const project = {
  q1: () => seriesRange(analytics, { selector: { seriesId: A.id }, ...q1, stepMs: MIN }),
  q2: () => seriesRange(analytics, { selector: { seriesId: A.id }, ...q2, stepMs: MIN, functions: ['p99'] }),
  q3: () =>
    aggregate(analytics, {
      name: 'bench_value',
      groupBy: ['instance'],
      fn: 'p99',
      topK: 10,
      from: new Date(q3.from),
      to: new Date(q3.to),
    }),
  q4: () =>
    correlate(analytics, {
      a: { seriesId: A.id },
      b: { seriesId: B.id },
      ...q4,
      stepMs: MIN,
      limit: 100_000,
    }),
};
const window = (r: { from: number; to: number }) => `${r.to - r.from - 1}ms`;
const prometheusQueries = {
  q1: () =>
    Promise.all(
      ['avg', 'min', 'max'].map((fn) =>
        promRange(`${fn}_over_time(${sel(A)}[${MIN - 1}ms])`, q1.from, q1.to, MIN),
      ),
    ),
  q2: () =>
    Promise.all(
      [
        `avg_over_time(${sel(A)}[${MIN - 1}ms])`,
        `max_over_time(${sel(A)}[${MIN - 1}ms])`,
        `quantile_over_time(0.99, ${sel(A)}[${MIN - 1}ms])`,
      ].map((expr) => promRange(expr, q2.from, q2.to, MIN)),
    ),
  q3: () =>
    prom('query', {
      query: `topk(10, quantile_over_time(0.99, bench_value[${window(q3)}]))`,
      time: (q3.to - 1) / 1000,
    }),
  q4: async () => {
    const [a, b] = await Promise.all(
      [A, B].map((d) => promRange(`avg_over_time(${sel(d)}[${MIN - 1}ms])`, q4.from, q4.to, MIN)),
    );
    const x = new Map(a![0]!.values!.map(([t, v]) => [t, Number(v)]));
    const pairs = b![0]!.values!.flatMap(([t, v]) => (x.has(t) ? [[x.get(t)!, Number(v)] as const] : []));
    const n = pairs.length;
    const mx = pairs.reduce((s, p) => s + p[0], 0) / n;
    const my = pairs.reduce((s, p) => s + p[1], 0) / n;
    let cov = 0;
    let vx = 0;
    let vy = 0;
    for (const [u, v] of pairs) {
      cov += (u - mx) * (v - my);
      vx += (u - mx) ** 2;
      vy += (v - my) ** 2;
    }
    return { pearson: cov / Math.sqrt(vx * vy), buckets: n };
  },
};

/** Compares one answer of each query (Prometheus point at T ↔ the bucket starting T − step + 1 ms). */
async function compare(): Promise<void> {
  const buckets = async (q: typeof project.q1) => (await q())[0]!.buckets!;
  const byTs = (r: PromResult[]) =>
    new Map(r[0]!.values!.map(([t, v]) => [Math.round(t * 1000) - MIN + 1, Number(v)]));
  const [avg1, min1, max1] = (await prometheusQueries.q1()).map(byTs);
  const b1 = await buckets(project.q1);
  if (b1.length !== avg1!.size) mismatches.push(`q1: ${b1.length} buckets, prometheus ${avg1!.size}`);
  for (const b of b1) {
    check(`q1 avg@${b.ts}`, b.avg, avg1!.get(b.ts) ?? Number.NaN, 1e-9);
    check(`q1 min@${b.ts}`, b.min, min1!.get(b.ts) ?? Number.NaN, 0);
    check(`q1 max@${b.ts}`, b.max, max1!.get(b.ts) ?? Number.NaN, 0);
  }
  const [avg2, max2, p992] = (await prometheusQueries.q2()).map(byTs);
  const b2 = await buckets(project.q2);
  if (b2.length !== avg2!.size) mismatches.push(`q2: ${b2.length} buckets, prometheus ${avg2!.size}`);
  for (const b of b2) {
    check(`q2 avg@${b.ts}`, b.avg, avg2!.get(b.ts) ?? Number.NaN, 1e-9);
    check(`q2 max@${b.ts}`, b.max, max2!.get(b.ts) ?? Number.NaN, 0);
    check(`q2 p99@${b.ts}`, b.p99!, p992!.get(b.ts) ?? Number.NaN, 0.02);
  }
  const top = await project.q3();
  const promTop = await prometheusQueries.q3();
  const promP99 = new Map(promTop.map((r) => [r.metric.instance!, Number(r.value![1])]));
  const overlap = top.filter((g) => promP99.has(g.labels.instance!));
  for (const g of overlap)
    check(`q3 p99 ${g.labels.instance}`, g.value, promP99.get(g.labels.instance!)!, 0.02);
  if (overlap.length < Math.min(10, SERIES) - 1)
    mismatches.push(`q3: only ${overlap.length} of the top 10 in common with prometheus`);
  q3Overlap = overlap.length;
  const { results } = await project.q4();
  const promR = await prometheusQueries.q4();
  check('q4 pearson', results[0]!.best!.pearson, promR.pearson, 1e-9);
  if (results[0]!.best!.buckets !== promR.buckets)
    mismatches.push(`q4: ${results[0]!.best!.buckets} bucket pairs, prometheus ${promR.buckets}`);
}
let q3Overlap = 0;

const floorProject = () => queryRows(analytics, 'SELECT 1 AS one');
const floorProm = () => prom('query', { query: 'vector(1)', time: END / 1000 });

if (promtool) await compare();

const names = ['q1', 'q2', 'q3', 'q4', 'floor'] as const;
const times: Record<string, number[]> = {};
for (const name of names) times[name] = [];
for (const name of names) times[`prometheus_${name}`] = [];
const run = async (key: string, fn: () => Promise<unknown>) => {
  const started = performance.now();
  await fn();
  times[key]!.push(performance.now() - started);
};
for (let r = -2; r < RUNS; r++) {
  for (const name of names) {
    const mine = name === 'floor' ? floorProject : project[name];
    const theirs = name === 'floor' ? floorProm : prometheusQueries[name];
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) {
      if (side === 0) await run(name, mine);
      else if (promtool) await run(`prometheus_${name}`, theirs);
    }
  }
  if (r === -1) for (const key of Object.keys(times)) times[key] = [];
}

prometheus?.kill('SIGTERM');
await analytics.close();
rmSync(dir, { recursive: true, force: true });

const med = (key: string) => (times[key]!.length ? median(times[key]!) : Number.NaN);
const round = (n: number) => Math.round(n * 100) / 100;
const labels: Record<(typeof names)[number], string> = {
  q1: 'q1 one series, 1 h → 1-min avg/min/max',
  q2: 'q2 one series, 1 day → 1-min avg/max/p99',
  q3: 'q3 top-10 of all series by p99 over a day',
  q4: 'q4 correlation of two series, 1 day at 1 min',
  floor: 'floor: SELECT 1 / vector(1)',
};
const rows: [string, string][] = [
  ['data', `${fmt(SERIES)} series × ${fmt(SAMPLES)} samples at 10 s (${fmt(SERIES * SAMPLES)})`],
  ['chDB load, s', fmt(loadMs / 1000, 1)],
  [
    'prometheus',
    promtool
      ? `2.x via promtool block (${fmt(blockMs / 1000, 1)} s)`
      : 'not installed (or QUERY_BENCH_PROMETHEUS=0): the project alone',
  ],
  ...names.map((name): [string, string] => [
    `${labels[name]}, ms`,
    promtool
      ? `${fmt(med(name), 2)} vs prometheus ${fmt(med(`prometheus_${name}`), 2)} (prometheus ÷ project ${fmt(med(`prometheus_${name}`) / med(name), 2)})`
      : fmt(med(name), 2),
  ]),
  [
    'answers agree',
    promtool
      ? mismatches.length
        ? `NO (${mismatches.length} shown): ${mismatches.join('; ')}`
        : `yes (${compared} values; q3 top-10 in common: ${q3Overlap})`
      : 'not compared',
  ],
];
report('query', rows, {
  series: SERIES,
  samples: SAMPLES,
  loadSeconds: round(loadMs / 1000),
  prometheus: promtool ? 'installed' : 'not installed',
  agree: promtool ? String(mismatches.length === 0) : 'n/a',
  q1Ms: round(med('q1')),
  q2Ms: round(med('q2')),
  q3Ms: round(med('q3')),
  q4Ms: round(med('q4')),
  floorMs: round(med('floor')),
  prometheusQ1Ms: round(med('prometheus_q1')),
  prometheusQ2Ms: round(med('prometheus_q2')),
  prometheusQ3Ms: round(med('prometheus_q3')),
  prometheusQ4Ms: round(med('prometheus_q4')),
  prometheusFloorMs: round(med('prometheus_floor')),
});
