import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { pearsonAt } from '../../../src/projections/metric-series/correlation.js';
import { aggregate, correlate, seriesRange } from '../../../src/projections/metric-series/queries.js';
import { QUANTILE_COST } from '../../../src/projections/metric-series/stats.js';
import { QUANTILES } from '../../../src/projections/metric-series/types.js';
import type { ProjectionRunner } from '../../../src/projections/runner.js';
import type { AnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { metricSeriesStores } from '../../support/metric-series-stores.js';
import { seeded } from '../../support/seeded.js';

/**
 * Every query function against values computed here from the raw samples, on the paths the queries
 * take: buckets by given ids (known or not) and by a catalogue condition, grouped and top-k/bottom-k
 * aggregation ranked in ClickHouse (exact from raw samples, or from digests when they are cheaper),
 * correlation; ranges with edges inside seconds, minutes and hours.
 */
const T0 = Date.UTC(2026, 10, 20, 0, 0, 0);
const HOURS = 4;
const MIN = 60_000;
const HOUR = 3_600_000;
const QUANTILE_ERROR = 0.02;

const gauge = (host: string, dc: string) =>
  defineSeries({ name: 'load', labels: { host, dc }, kind: 'gauge', unit: 'ms' });
const GAUGES = [
  gauge('h1', 'eu'),
  gauge('h2', 'eu'),
  gauge('h3', 'us'),
  gauge('h4', 'us'),
  gauge('h5', 'ap'),
];
const PRECISE = defineSeries({ name: 'precise', labels: { host: 'h1' }, kind: 'gauge' });
const ALL = [...GAUGES, PRECISE];

type Sample = [ts: number, value: number];
const raw = new Map<string, Sample[]>();
const within = (def: SeriesDef, from: number, to: number) =>
  raw.get(def.id)!.filter(([t]) => t >= from && t < to);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function nearestRank(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

const closeTo = (actual: number, expected: number, relative = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-12);

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

// Edges inside a second, a minute and an hour; and one range within a minute.
const RANGES = [
  { from: T0 + 17 * MIN + 12_345, to: T0 + 3 * HOUR + 41 * MIN + 7_890 },
  { from: T0 + HOUR - 3 * MIN - 1, to: T0 + 2 * HOUR + 1 },
  { from: T0 + 2 * HOUR + 10_000, to: T0 + 2 * HOUR + 50_000 },
];

describe('metric series queries: exact against the raw samples', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let runner: ProjectionRunner;
  const cost = QUANTILE_COST.samplesPerDigest;

  beforeAll(async () => {
    ({ events, analytics, runner } = await metricSeriesStores('series_exact'));
    const random = seeded(20261120);
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const common = Array.from({ length: HOURS * 60 }, () => normal() * 5);
    let seq = 0;
    for (let hour = 0; hour < HOURS; hour++) {
      const samples: [SeriesDef, number, number][] = [];
      const add = (def: SeriesDef, ts: number, value: number) => {
        samples.push([def, ts, value]);
        const list = raw.get(def.id) ?? [];
        list.push([ts, value]);
        raw.set(def.id, list);
      };
      // Every 10 s at an irregular millisecond: noisy 1–2 decimal gauges sharing a component (so that
      // they correlate), with h4 two minutes behind h1; and full-precision doubles.
      for (let s = hour * 360; s < (hour + 1) * 360; s++) {
        const ts = T0 + s * 10_000 + ((s * 7919) % 10_000);
        const m = Math.floor(s / 6);
        GAUGES.forEach((def, i) => {
          const shared = i === 3 ? (common[m - 2] ?? 0) : i === 2 ? 0 : common[m]!;
          const decimals = i % 2 ? 1 : 2;
          add(def, ts, Math.round((50 + 10 * i + shared + normal()) * 10 ** decimals) / 10 ** decimals);
        });
        add(PRECISE, ts, Math.sin(s / 50) * 1000 + random());
      }
      await events.append('samples-agent1', [batchEvent(batchOf('agent1', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      seq++;
    }
    // Late samples for minutes the rollups already hold: their rows land in another part, and a bucket
    // is then two rollup rows until the table merges them (the queries must add them up).
    const late: [SeriesDef, number, number][] = [];
    for (let s = 0; s < 40; s++)
      for (const def of [GAUGES[0]!, PRECISE]) {
        const ts = T0 + HOUR + 20 * MIN + s * 20_000 + 5_003;
        const value = Math.round(random() * 10_000) / 100;
        late.push([def, ts, value]);
        raw.get(def.id)!.push([ts, value]);
      }
    for (const list of raw.values()) list.sort((x, y) => x[0] - y[0]);
    await events.append('samples-agent1', [batchEvent(batchOf('agent1', seq, late))], {
      expectedRevision: BigInt(seq - 1),
    });
    await runner.start();
    await runner.waitFor();
  }, 120_000);
  afterEach(() => {
    QUANTILE_COST.samplesPerDigest = cost;
  });
  afterAll(async () => {
    await runner.stop();
    await analytics.close();
    await events.close();
  });

  const expectBuckets = (
    def: SeriesDef,
    buckets: readonly Record<string, unknown>[],
    r: (typeof RANGES)[0],
    step: number,
  ) => {
    const expected = new Map<number, number[]>();
    for (const [t, v] of within(def, r.from, r.to)) {
      const b = Math.floor(t / step) * step;
      expected.set(b, [...(expected.get(b) ?? []), v]);
    }
    expect(buckets.map((b) => b.ts)).toEqual([...expected.keys()]);
    for (const bucket of buckets) {
      const values = expected.get(bucket.ts as number)!;
      expect(bucket.count).toBe(values.length);
      expect(bucket.min).toBe(Math.min(...values));
      expect(bucket.max).toBe(Math.max(...values));
      closeTo(bucket.sum as number, sum(values));
      closeTo(bucket.avg as number, sum(values) / values.length);
      for (const fn of ['p50', 'p90', 'p99'] as const) {
        if (bucket[fn] === undefined) continue;
        const exact = nearestRank(values, QUANTILES[fn]);
        if (bucket.fromRollups) closeTo(bucket[fn] as number, exact, QUANTILE_ERROR);
        else expect(bucket[fn]).toBe(exact);
      }
    }
  };

  for (const [i, r] of RANGES.entries())
    for (const step of [7_000, MIN, 5 * MIN, HOUR])
      it(`buckets by ids, known ids and a name agree with the raw samples (range ${i}, step ${step / 1000} s)`, async () => {
        const selectors = [
          { seriesIds: [GAUGES[1]!.id, PRECISE.id, GAUGES[0]!.id] },
          { seriesIds: [PRECISE.id, GAUGES[0]!.id, GAUGES[1]!.id] }, // known by now: no catalogue query
          { name: 'load', labels: { dc: 'eu' } },
        ];
        for (const selector of selectors)
          for (const functions of [[], ['p50', 'p99']] as const) {
            const result = await seriesRange(analytics, {
              selector,
              from: r.from,
              to: r.to,
              stepMs: step,
              functions: [...functions],
              limit: 100_000,
            });
            const defs = ALL.filter((d) =>
              'name' in selector
                ? d.name === 'load' && d.labels.dc === 'eu'
                : selector.seriesIds.includes(d.id),
            );
            expect(result.map((s) => s.series.seriesId)).toEqual(defs.map((d) => d.id).sort(byId));
            for (const { series, buckets } of result) {
              expect(series.labels).toEqual(ALL.find((d) => d.id === series.seriesId)!.labels);
              expectBuckets(
                ALL.find((d) => d.id === series.seriesId)!,
                buckets as unknown as Record<string, unknown>[],
                r,
                step,
              );
            }
          }
      });

  it('refuses more buckets than the limit on the condition path too', async () => {
    const r = RANGES[0]!;
    await expect(
      seriesRange(analytics, { selector: { name: 'load' }, ...r, stepMs: MIN, limit: 100 }),
    ).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
    await expect(
      seriesRange(analytics, { selector: { seriesIds: [PRECISE.id] }, ...r, stepMs: 7_000, limit: 100 }),
    ).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
  });

  const FNS = ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p90', 'p99'] as const;
  const reference = (fn: (typeof FNS)[number], values: number[]) =>
    fn === 'avg'
      ? sum(values) / values.length
      : fn === 'min'
        ? Math.min(...values)
        : fn === 'max'
          ? Math.max(...values)
          : fn === 'sum'
            ? sum(values)
            : fn === 'count'
              ? values.length
              : nearestRank(values, QUANTILES[fn]);

  for (const mode of ['exact when cheaper', 'digests whenever rollups serve'] as const)
    for (const [i, r] of RANGES.entries())
      it(`aggregates groups and ranks top-k / bottom-k in ClickHouse (${mode}, range ${i})`, async () => {
        if (mode !== 'exact when cheaper') QUANTILE_COST.samplesPerDigest = 0;
        const range = { from: new Date(r.from), to: new Date(r.to) };
        for (const groupBy of [['dc'], ['host'], ['dc', 'host'], []])
          for (const fn of FNS) {
            const groups = new Map<
              string,
              { labels: Record<string, string>; values: number[]; series: number }
            >();
            for (const def of GAUGES) {
              const labels = Object.fromEntries(groupBy.map((k) => [k, def.labels[k] ?? '']));
              const key = JSON.stringify(Object.values(labels));
              const g = groups.get(key) ?? { labels, values: [], series: 0 };
              g.values.push(...within(def, r.from, r.to).map(([, v]) => v));
              g.series++;
              groups.set(key, g);
            }
            const expected = [...groups.values()]
              .filter((g) => g.values.length)
              .map((g) => ({ labels: g.labels, value: reference(fn, g.values), series: g.series }))
              .sort((a, b) =>
                JSON.stringify(Object.values(a.labels)) < JSON.stringify(Object.values(b.labels)) ? -1 : 1,
              );
            const quantile = fn.startsWith('p');
            const check = (
              actual: { labels: unknown; value: number; series: number; fromRollups: boolean }[],
              want: typeof expected,
            ) => {
              expect(actual.map((g) => [g.labels, g.series])).toEqual(want.map((g) => [g.labels, g.series]));
              actual.forEach((g, j) => {
                const exact = want[j]!.value;
                if (quantile && g.fromRollups) closeTo(g.value, exact, QUANTILE_ERROR);
                else if (fn === 'avg' || fn === 'sum') closeTo(g.value, exact);
                else expect(g.value).toBe(exact);
              });
            };
            const all = await aggregate(analytics, { name: 'load', groupBy, fn, ...range });
            check(all, expected);
            if (quantile && mode === 'exact when cheaper')
              expect(all.every((g) => !g.fromRollups)).toBe(true);
            if (quantile && mode !== 'exact when cheaper' && r.to - r.from > 2 * MIN)
              expect(all.every((g) => g.fromRollups)).toBe(true);
            // Ranked: by the values the groups got (ties by labels), the first k of them.
            const rank = (desc: boolean) =>
              [...all].sort((a, b) => (desc ? b.value - a.value : a.value - b.value));
            for (const k of [1, 2, 10]) {
              const top = await aggregate(analytics, { name: 'load', groupBy, fn, topK: k, ...range });
              expect(top.map((g) => g.value)).toEqual(
                rank(true)
                  .slice(0, k)
                  .map((g) => g.value),
              );
              const bottom = await aggregate(analytics, { name: 'load', groupBy, fn, bottomK: k, ...range });
              expect(bottom.map((g) => g.value)).toEqual(
                rank(false)
                  .slice(0, k)
                  .map((g) => g.value),
              );
              for (const g of [...top, ...bottom]) {
                const want = expected.find((e) => JSON.stringify(e.labels) === JSON.stringify(g.labels))!;
                check([g], [want]);
              }
            }
          }
      });

  it('ranks ties between equal values by label values', async () => {
    const range = { from: new Date(RANGES[0]!.from), to: new Date(RANGES[0]!.to) };
    // h1 has the late samples too; the other hosts as many samples each: ties, by host name.
    const top = await aggregate(analytics, {
      name: 'load',
      groupBy: ['host'],
      fn: 'count',
      topK: 3,
      ...range,
    });
    expect(top.map((g) => g.labels.host)).toEqual(['h1', 'h2', 'h3']);
    expect(top[1]!.value).toBe(top[2]!.value);
    const bottom = await aggregate(analytics, {
      name: 'load',
      groupBy: ['host'],
      fn: 'count',
      bottomK: 2,
      ...range,
    });
    expect(bottom.map((g) => g.labels.host)).toEqual(['h2', 'h3']);
  });

  for (const [i, r] of RANGES.slice(0, 2).entries())
    for (const step of [MIN, 5 * MIN, 90_000])
      it(`correlates by the exact bucket averages (range ${i}, step ${step / 1000} s)`, async () => {
        const first = Math.floor(r.from / step) * step;
        const n = (Math.floor((r.to - 1) / step) * step - first) / step + 1;
        const averages = (def: SeriesDef) => {
          const sums = new Float64Array(n);
          const counts = new Float64Array(n);
          for (const [t, v] of within(def, r.from, r.to)) {
            const b = (Math.floor(t / step) * step - first) / step;
            sums[b]! += v;
            counts[b]!++;
          }
          return sums.map((s, j) => (counts[j] ? s / counts[j]! : Number.NaN));
        };
        const x = averages(GAUGES[0]!);
        for (const b of [
          { seriesIds: [GAUGES[3]!.id, GAUGES[2]!.id] },
          { name: 'load', labels: { dc: 'us' } },
        ]) {
          const { a, results } = await correlate(analytics, {
            a: { seriesId: GAUGES[0]!.id },
            b,
            ...r,
            stepMs: step,
            minLag: -3,
            maxLag: 3,
          });
          expect(a.seriesId).toBe(GAUGES[0]!.id);
          expect(results.map((c) => c.series.seriesId).sort(byId)).toEqual(
            [GAUGES[2]!.id, GAUGES[3]!.id].sort(byId),
          );
          for (const result of results) {
            const y = averages(ALL.find((d) => d.id === result.series.seriesId)!);
            for (const lag of result.lags) {
              const want = pearsonAt(x, y, lag.lag);
              expect(lag.buckets).toBe(want.buckets);
              if (Number.isNaN(want.pearson)) expect(lag.pearson).toBeNaN();
              else closeTo(lag.pearson, want.pearson, 1e-9);
            }
          }
          // h4 follows h1 by two minutes: at a one-minute step, b follows a by two steps.
          if (step === MIN) expect(results[0]!.best!.lag).toBe(2);
        }
      });
});
