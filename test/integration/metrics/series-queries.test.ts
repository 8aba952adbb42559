import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import {
  aggregate,
  correlate,
  correlation,
  labelNames,
  labelValues,
  planSegments,
  type SeriesBucket,
  type SeriesSelector,
  scanSamples,
  searchSeries,
  seriesRange,
} from '../../../src/projections/metric-series/queries.js';
import type { ProjectionRunner } from '../../../src/projections/runner.js';
import type { AnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { metricSeriesStores } from '../../support/metric-series-stores.js';
import { seeded } from '../../support/seeded.js';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0); // on the hour
const HOURS = 3;
const MIN = 60_000;
const HOUR = 3_600_000;
/** The relative error docs/api.md states for quantiles from digests. */
const QUANTILE_ERROR = 0.02;

const latency = (svc: string, host: string, dc: string) =>
  defineSeries({ name: 'lat_ms', labels: { svc, host, dc }, kind: 'gauge', unit: 'ms' });
const LAT = [
  latency('api', 'h1', 'eu'),
  latency('api', 'h2', 'eu'),
  latency('web', 'h3', 'us'),
  latency('web', 'h10', 'us'),
];
const REQ = [
  defineSeries({ name: 'req_total', labels: { svc: 'api', host: 'h1' }, kind: 'counter' }),
  defineSeries({ name: 'req_total', labels: { svc: 'api', host: 'h2' }, kind: 'counter' }),
];
const LEAD = defineSeries({ name: 'signal', labels: { role: 'lead' }, kind: 'gauge' });
const FOLLOW = defineSeries({ name: 'signal', labels: { role: 'follow' }, kind: 'gauge' });
const NOISE = defineSeries({ name: 'signal', labels: { role: 'noise' }, kind: 'gauge' });

type Sample = [ts: number, value: number];
const raw = new Map<string, Sample[]>();
const within = (def: SeriesDef, from: number, to: number) =>
  raw.get(def.id)!.filter(([t]) => t >= from && t < to);

/** Nearest rank: the ⌈q·n⌉-th smallest (as docs/api.md defines exact quantiles). */
function nearestRank(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** The reference buckets of one series: what each should hold, from the raw samples in [from, to). */
function reference(def: SeriesDef, from: number, to: number, step: number) {
  const buckets = new Map<number, Sample[]>();
  for (const sample of within(def, from, to)) {
    const t = Math.floor(sample[0] / step) * step;
    buckets.set(t, [...(buckets.get(t) ?? []), sample]);
  }
  return buckets;
}

/** Rate as docs/api.md defines it: increases of consecutive samples in [from, to), resets counted from 0. */
function referenceRates(def: SeriesDef, from: number, to: number, step: number | null) {
  const increases = new Map<number, number>();
  const samples = within(def, from, to);
  for (let i = 1; i < samples.length; i++) {
    const [t, v] = samples[i]!;
    const prev = samples[i - 1]![1];
    const b = step === null ? 0 : Math.floor(t / step) * step;
    increases.set(b, (increases.get(b) ?? 0) + (v >= prev ? v - prev : v));
  }
  const rates = new Map<number, number>();
  for (const [b, inc] of increases) {
    const ms = step === null ? to - from : Math.min(b + step, to) - Math.max(b, from);
    rates.set(b, inc / (ms / 1000));
  }
  return rates;
}

const closeTo = (actual: number, expected: number, relative = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-12);

describe('series queries on embedded chDB', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    ({ events, analytics, runner } = await metricSeriesStores('series_q'));
    const random = seeded(20261127);
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const signal = Array.from({ length: HOURS * 60 }, () => Math.round(random() * 1000) / 10);
    const counters = REQ.map(() => 0);
    const add = (samples: [SeriesDef, number, number][], def: SeriesDef, ts: number, value: number) => {
      samples.push([def, ts, value]);
      const list = raw.get(def.id) ?? [];
      list.push([ts, value]);
      raw.set(def.id, list);
    };
    let seq = 0;
    for (let tenMinutes = 0; tenMinutes < HOURS * 6; tenMinutes++) {
      const samples: [SeriesDef, number, number][] = [];
      for (let s = tenMinutes * 600; s < (tenMinutes + 1) * 600; s++) {
        // One sample a second, at an irregular millisecond within it.
        const ts = T0 + s * 1000 + ((s * 37) % 1000);
        for (const def of LAT) add(samples, def, ts, Math.round(Math.exp(3 + 0.5 * normal()) * 100) / 100);
        REQ.forEach((def, i) => {
          // Counters with resets (to a small value) twice.
          counters[i] = s === 4000 + i * 1000 || s === 9000 ? 3 : counters[i]! + Math.floor(random() * 10);
          add(samples, def, ts, counters[i]!);
        });
        if (s % 10 === 0) {
          const m = Math.floor(s / 60);
          add(samples, LEAD, ts, signal[m]! + normal());
          add(samples, FOLLOW, ts, m >= 3 ? 2 * signal[m - 3]! + 5 + normal() : 0);
          add(samples, NOISE, ts, Math.round(random() * 1000) / 10);
        }
      }
      await events.append('samples-agent1', [batchEvent(batchOf('agent1', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      seq++;
    }
    await runner.start();
    await runner.waitFor();
  }, 120_000);
  afterAll(async () => {
    await runner.stop();
    await analytics.close();
    await events.close();
  });

  it('plans the rollups only over whole rows inside the range and inside one bucket', () => {
    const from = T0 + 12 * MIN + 30_345;
    const to = T0 + 2 * HOUR + 7 * MIN + 20_008;
    expect(planSegments(from, to, HOUR)).toEqual([
      { source: 'raw', from, to: T0 + 13 * MIN },
      { source: '1m', from: T0 + 13 * MIN, to: T0 + HOUR },
      { source: '1h', from: T0 + HOUR, to: T0 + 2 * HOUR },
      { source: '1m', from: T0 + 2 * HOUR, to: T0 + 2 * HOUR + 7 * MIN },
      { source: 'raw', from: T0 + 2 * HOUR + 7 * MIN, to },
    ]);
    // A 5-minute step: no hour rows (an hour spans twelve buckets).
    expect(planSegments(from, to, 5 * MIN).map((s) => s.source)).toEqual(['raw', '1m', 'raw']);
    // Not a whole number of minutes: raw samples only.
    expect(planSegments(from, to, 90_000)).toEqual([{ source: 'raw', from, to }]);
    expect(planSegments(T0, T0 + 30_000, null)).toEqual([{ source: 'raw', from: T0, to: T0 + 30_000 }]);
  });

  // Steps served by raw samples (7 s, 90 s), by the 1-minute rollups (1 and 5 minutes) and by the
  // 1-hour rollups (1 and 2 hours), over a range whose edges fall inside minutes and hours.
  const ranges = [
    { from: T0 + 12 * MIN + 30_345, to: T0 + 2 * HOUR + 7 * MIN + 20_008 },
    { from: T0, to: T0 + HOURS * HOUR },
  ];
  for (const { from, to } of ranges)
    for (const step of [7_000, 90_000, MIN, 5 * MIN, HOUR, 2 * HOUR]) {
      it(`gives exact buckets: step ${step / 1000} s over [T0+${(from - T0) / 1000} s, T0+${(to - T0) / 1000} s)`, async () => {
        const result = await seriesRange(analytics, {
          selector: { name: 'lat_ms' },
          from,
          to,
          stepMs: step,
          functions: ['p50', 'p90', 'p99'],
          limit: 100_000,
        });
        expect(result.map((r) => r.series.seriesId)).toEqual(
          LAT.map((d) => d.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
        );
        for (const { series, buckets } of result) {
          const def = LAT.find((d) => d.id === series.seriesId)!;
          const expected = reference(def, from, to, step);
          expect(buckets!.map((b) => b.ts)).toEqual([...expected.keys()]);
          let total = 0;
          for (const bucket of buckets!) {
            const values = expected.get(bucket.ts)!.map(([, v]) => v);
            expect(bucket.ts % step).toBe(0);
            expect(bucket.count).toBe(values.length);
            expect(bucket.min).toBe(Math.min(...values));
            expect(bucket.max).toBe(Math.max(...values));
            closeTo(
              bucket.sum,
              values.reduce((a, b) => a + b, 0),
            );
            closeTo(bucket.avg, values.reduce((a, b) => a + b, 0) / values.length);
            for (const [fn, q] of [
              ['p50', 0.5],
              ['p90', 0.9],
              ['p99', 0.99],
            ] as const) {
              if (bucket.fromRollups) closeTo(bucket[fn]!, nearestRank(values, q), QUANTILE_ERROR);
              else expect(bucket[fn]).toBe(nearestRank(values, q));
            }
            total += bucket.count;
          }
          // Not one sample from outside [from, to).
          expect(total).toBe(within(def, from, to).length);
          const fromRollups = buckets!.some((b: SeriesBucket) => b.fromRollups);
          expect(fromRollups).toBe(step % MIN === 0);
        }
      });
    }

  it('measures the quantile error of merged digests on log-normal latencies within the stated bound', async () => {
    let worst = 0;
    for (const step of [5 * MIN, 10 * MIN, 30 * MIN, HOUR]) {
      const [first] = await seriesRange(analytics, {
        selector: { seriesIds: [LAT[0]!.id] },
        from: T0,
        to: T0 + HOURS * HOUR,
        stepMs: step,
        functions: ['p50', 'p90', 'p99'],
      });
      const expected = reference(LAT[0]!, T0, T0 + HOURS * HOUR, step);
      for (const bucket of first!.buckets!) {
        expect(bucket.fromRollups).toBe(true);
        const values = expected.get(bucket.ts)!.map(([, v]) => v);
        for (const [fn, q] of [
          ['p50', 0.5],
          ['p90', 0.9],
          ['p99', 0.99],
        ] as const) {
          const exact = nearestRank(values, q);
          worst = Math.max(worst, Math.abs(bucket[fn]! - exact) / exact);
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(QUANTILE_ERROR);
  });

  it('gives exact rates per bucket, counter resets included, whatever the step', async () => {
    const from = T0 + 12 * MIN + 30_345;
    const to = T0 + 2 * HOUR + 7 * MIN + 20_008;
    for (const step of [7_000, MIN, HOUR]) {
      const result = await seriesRange(analytics, {
        selector: { name: 'req_total' },
        from,
        to,
        stepMs: step,
        functions: ['rate'],
        limit: 100_000,
      });
      expect(result).toHaveLength(2);
      for (const { series, buckets } of result) {
        const def = REQ.find((d) => d.id === series.seriesId)!;
        const rates = referenceRates(def, from, to, step);
        for (const bucket of buckets!)
          expect([bucket.ts, bucket.rate]).toEqual([bucket.ts, rates.get(bucket.ts) ?? 0]);
        expect(buckets!.length).toBe(reference(def, from, to, step).size);
      }
    }
  });

  it('answers raw samples exactly, and refuses more points than the limit rather than cut them', async () => {
    const from = T0 + 5 * MIN + 1;
    const to = T0 + 6 * MIN;
    const result = await seriesRange(analytics, { selector: { name: 'req_total' }, from, to });
    for (const { series, points } of result) {
      const def = REQ.find((d) => d.id === series.seriesId)!;
      expect(points!.map((p) => [p.ts, p.value])).toEqual(within(def, from, to));
    }
    const tooMany = seriesRange(analytics, { selector: { name: 'req_total' }, from, to, limit: 100 });
    await expect(tooMany).rejects.toBeInstanceOf(ValidationError);
    await expect(tooMany).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
    const buckets = seriesRange(analytics, {
      selector: { name: 'lat_ms' },
      from: T0,
      to: T0 + HOUR,
      stepMs: 1000,
      limit: 1000,
    });
    await expect(buckets).rejects.toMatchObject({ issues: [{ path: 'limit' }] });
    await expect(
      seriesRange(analytics, { selector: { name: 'lat_ms' }, from: T0, to: T0 + HOUR, stepMs: 1.5 }),
    ).rejects.toMatchObject({ issues: [{ path: 'stepMs' }] });
    await expect(
      seriesRange(analytics, { selector: { name: 'lat_ms' }, from: T0, to: T0 + HOUR, functions: ['p50'] }),
    ).rejects.toMatchObject({ issues: [{ path: 'functions' }] });
    await expect(seriesRange(analytics, { selector: {}, from: T0, to: T0 })).rejects.toMatchObject({
      issues: [{ path: 'to' }],
    });
  });

  it('selects series by name, label matchers (=, !=, regex, not regex, anchored) and text', async () => {
    const hosts = async (selector: SeriesSelector) =>
      (await searchSeries(analytics, selector, { limit: 100 })).map((s) => s.labels.host).sort();
    expect(await hosts({ name: 'lat_ms', matchers: [{ label: 'host', op: 'eq', value: 'h1' }] })).toEqual([
      'h1',
    ]);
    expect(await hosts({ name: 'lat_ms', matchers: [{ label: 'host', op: 'neq', value: 'h1' }] })).toEqual([
      'h10',
      'h2',
      'h3',
    ]);
    // Anchored: h1 does not match h10.
    expect(await hosts({ name: 'lat_ms', matchers: [{ label: 'host', op: 'regex', value: 'h1' }] })).toEqual([
      'h1',
    ]);
    expect(
      await hosts({ name: 'lat_ms', matchers: [{ label: 'host', op: 'regex', value: 'h[12].*' }] }),
    ).toEqual(['h1', 'h10', 'h2']);
    expect(
      await hosts({ name: 'lat_ms', matchers: [{ label: 'host', op: 'notRegex', value: 'h1.*' }] }),
    ).toEqual(['h2', 'h3']);
    // A label a series does not have is "": these match every lat_ms series.
    expect(await hosts({ name: 'lat_ms', matchers: [{ label: 'zone', op: 'eq', value: '' }] })).toHaveLength(
      4,
    );
    expect(await hosts({ text: 'WEB' })).toEqual(['h10', 'h3']);
    expect((await searchSeries(analytics, { text: 'req_' }, { limit: 100 })).map((s) => s.name)).toEqual([
      'req_total',
      'req_total',
    ]);
    await expect(
      searchSeries(
        analytics,
        { matchers: [{ label: 'host', op: 'regex', value: '(unclosed' }] },
        { limit: 10 },
      ),
    ).rejects.toMatchObject({ issues: [{ path: 'selector.matchers[0].value' }] });
    await expect(
      searchSeries(analytics, { matchers: [{ label: 'bad-name', op: 'eq', value: 'x' }] }, { limit: 10 }),
    ).rejects.toMatchObject({ issues: [{ path: 'selector.matchers[0].label' }] });
  });

  it('pages through series by id, both ways', async () => {
    const all = (await searchSeries(analytics, {}, { limit: 100 })).map((s) => s.seriesId);
    expect(all).toHaveLength(LAT.length + REQ.length + 3);
    const first = await searchSeries(analytics, {}, { limit: 4 });
    const rest = await searchSeries(analytics, {}, { after: first.at(-1)!.seriesId, limit: 100 });
    expect([...first, ...rest].map((s) => s.seriesId)).toEqual(all);
    const before = await searchSeries(analytics, {}, { before: all[3]!, limit: 2, inverted: true });
    expect(before.map((s) => s.seriesId)).toEqual([all[2], all[1]]);
  });

  it('lists label names and values', async () => {
    expect(await labelNames(analytics, { name: 'lat_ms' }, 100)).toEqual(['dc', 'host', 'svc']);
    expect(await labelNames(analytics, {}, 100)).toEqual(['dc', 'host', 'role', 'svc']);
    expect(
      await labelValues(analytics, 'host', { matchers: [{ label: 'svc', op: 'eq', value: 'api' }] }, 100),
    ).toEqual(['h1', 'h2']);
    expect(await labelValues(analytics, 'role', {}, 100)).toEqual(['follow', 'lead', 'noise']);
    await expect(labelValues(analytics, 'host', {}, 2)).rejects.toMatchObject({
      issues: [{ path: 'limit' }],
    });
  });

  it('aggregates across series grouped by labels, exactly, with top-k and bottom-k', async () => {
    const from = T0 + 12 * MIN + 30_345;
    const to = T0 + 2 * HOUR + 7 * MIN + 20_008;
    const range = { from: new Date(from), to: new Date(to) };
    const values = (defs: SeriesDef[]) => defs.flatMap((d) => within(d, from, to).map(([, v]) => v));
    const bySvc = { api: LAT.slice(0, 2), web: LAT.slice(2) };
    for (const fn of ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p99'] as const) {
      const groups = await aggregate(analytics, { name: 'lat_ms', groupBy: ['svc'], fn, ...range });
      expect(groups.map((g) => g.labels)).toEqual([{ svc: 'api' }, { svc: 'web' }]);
      for (const g of groups) {
        const v = values(bySvc[g.labels.svc as 'api' | 'web']);
        const sum = v.reduce((a, b) => a + b, 0);
        const expected = {
          avg: sum / v.length,
          min: Math.min(...v),
          max: Math.max(...v),
          sum,
          count: v.length,
          p50: nearestRank(v, 0.5),
          p99: nearestRank(v, 0.99),
        }[fn];
        expect(g.series).toBe(2);
        closeTo(g.value, expected, fn === 'p50' || fn === 'p99' ? QUANTILE_ERROR : 1e-9);
        if (fn === 'min' || fn === 'max' || fn === 'count') expect(g.value).toBe(expected);
      }
    }
    // Rate across series: the sum of each series' rate over the range.
    const [rate] = await aggregate(analytics, { name: 'req_total', fn: 'rate', ...range });
    const expectedRate = REQ.reduce((a, d) => a + referenceRates(d, from, to, null).get(0)!, 0);
    closeTo(rate!.value, expectedRate, 1e-12);
    // Over a range that is exactly one bucket, a series' rate is the range query's rate of that bucket.
    const hours = { from: new Date(T0), to: new Date(T0 + 2 * HOUR) };
    const perHost = await aggregate(analytics, {
      name: 'req_total',
      groupBy: ['host'],
      fn: 'rate',
      ...hours,
    });
    const buckets = await seriesRange(analytics, {
      selector: { name: 'req_total' },
      from: T0,
      to: T0 + 2 * HOUR,
      stepMs: 2 * HOUR,
      functions: ['rate'],
    });
    expect(perHost.map((g) => g.value).sort()).toEqual(buckets.map((b) => b.buckets![0]!.rate).sort());
    const maxByHost = (
      await aggregate(analytics, { name: 'lat_ms', groupBy: ['host'], fn: 'max', ...range })
    ).map((g) => [g.labels.host, g.value] as const);
    const sorted = [...maxByHost].sort((a, b) => b[1] - a[1]);
    const top = await aggregate(analytics, {
      name: 'lat_ms',
      groupBy: ['host'],
      fn: 'max',
      topK: 2,
      ...range,
    });
    expect(top.map((g) => [g.labels.host, g.value])).toEqual(sorted.slice(0, 2));
    const bottom = await aggregate(analytics, {
      name: 'lat_ms',
      groupBy: ['host'],
      fn: 'max',
      bottomK: 1,
      ...range,
    });
    expect(bottom.map((g) => [g.labels.host, g.value])).toEqual([sorted.at(-1)]);
    await expect(
      aggregate(analytics, { name: 'lat_ms', fn: 'max', topK: 1, bottomK: 1, ...range }),
    ).rejects.toMatchObject({ issues: [{ path: 'bottomK' }] });
  });

  it('finds the lag between two series, and ranks one series against many', async () => {
    const r = { from: T0, to: T0 + HOURS * HOUR, stepMs: MIN };
    const { results } = await correlate(analytics, {
      a: { seriesIds: [LEAD.id] },
      b: { name: 'signal' },
      ...r,
      minLag: -5,
      maxLag: 5,
    });
    expect(results.map((c) => c.series.labels.role)).toEqual(['follow', 'noise']);
    const [follow, noise] = results;
    // follow(t + 3 steps) = 2·lead(t) + 5 (+ noise): b follows a by 3 steps.
    expect(follow!.best!.lag).toBe(3);
    expect(follow!.best!.pearson).toBeGreaterThan(0.99);
    expect(follow!.best!.buckets).toBe(HOURS * 60 - 3);
    expect(follow!.lags.map((l) => l.lag)).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
    expect(Math.abs(follow!.lags.find((l) => l.lag === 0)!.pearson)).toBeLessThan(0.3);
    expect(Math.abs(noise!.best!.pearson)).toBeLessThan(0.3);
    // Two series at lag 0, as the older helper answers it.
    const same = await correlation(
      analytics,
      { seriesId: LEAD.id },
      { seriesId: LEAD.id },
      { from: new Date(r.from), to: new Date(r.to), stepMs: MIN },
    );
    expect(same.buckets).toBe(HOURS * 60);
    closeTo(same.pearson, 1);
    await expect(
      correlate(analytics, { a: { name: 'signal' }, b: { name: 'signal' }, ...r }),
    ).rejects.toMatchObject({
      issues: [{ path: 'a' }],
    });
  });

  it('scans every sample of a range page by page', async () => {
    const from = T0 + 30 * MIN + 1;
    const to = T0 + 50 * MIN;
    const seen: [string, number, number][] = [];
    let pages = 0;
    for await (const page of scanSamples(
      analytics,
      REQ.map((d) => d.id),
      from,
      to,
      250,
    )) {
      pages++;
      for (const s of page) seen.push([s.seriesId, s.ts, s.value]);
    }
    const expected = REQ.map((d) => d.id)
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
      .flatMap((id) => within(REQ.find((d) => d.id === id)!, from, to).map(([t, v]) => [id, t, v]));
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 250));
  });
});
