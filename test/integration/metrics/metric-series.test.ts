import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import {
  aggregate,
  correlation,
  downsample,
  findSeries,
  rawRange,
} from '../../../src/projections/metric-series/queries.js';
import type { ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { metricSeriesStores } from '../../support/metric-series-stores.js';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const gauge = (host: string) =>
  defineSeries({ name: 'cpu_usage', labels: { host, dc: 'eu' }, kind: 'gauge', unit: '%' });
const counter = (host: string) => defineSeries({ name: 'requests_total', labels: { host }, kind: 'counter' });

describe('metric series projection on embedded chDB', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let runner: ProjectionRunner;
  const expected = new Map<string, [number, number][]>();
  let seq = 0;
  const append = async (samples: [SeriesDef, number, number][]) => {
    for (const [def, ts, value] of samples) {
      const list = expected.get(def.id) ?? [];
      list.push([ts, value]);
      expected.set(def.id, list);
    }
    const batch = batchOf('agent1', seq, samples);
    await events.append('samples-agent1', [batchEvent(batch)], {
      expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
    });
    seq++;
  };

  beforeAll(async () => {
    ({ events, analytics, runner } = await metricSeriesStores('series_test'));
    // Two hours of one-second samples for two hosts: gauges with 0–3 decimals, a counter that resets.
    for (let minute = 0; minute < 120; minute++) {
      const samples: [SeriesDef, number, number][] = [];
      for (let s = 0; s < 60; s++) {
        const t = minute * 60 + s;
        const ts = T0 + t * 1000;
        samples.push([gauge('a'), ts, Math.round((50 + 10 * Math.sin(t / 300)) * 100) / 100]);
        samples.push([gauge('b'), ts, Math.round((2 * (50 + 10 * Math.sin(t / 300)) + 1) * 1000) / 1000]);
        samples.push([counter('a'), ts, t < 3600 ? t * 5 : (t - 3600) * 5]); // resets at the hour
        samples.push([counter('b'), ts, t * 2]);
      }
      await append(samples);
    }
    await runner.start();
    await runner.waitFor();
  });
  afterAll(async () => {
    await runner.stop();
    await analytics.close();
    await events.close();
  });

  it('stores every sample exactly once with its exact value, and the series catalogue', async () => {
    const [counts] = await queryRows<{ n: string; series: string }>(
      analytics,
      'SELECT count() AS n, uniqExact(series_id) AS series FROM series_test.samples',
    );
    expect(counts).toEqual({ n: String(120 * 60 * 4), series: '4' });
    for (const def of [gauge('a'), gauge('b'), counter('a')]) {
      const points = await rawRange(
        analytics,
        { seriesId: def.id },
        { from: new Date(T0), to: new Date(T0 + 7_200_000) },
      );
      expect(points.map((p) => [p.ts, p.value])).toEqual(expected.get(def.id));
    }
    const catalogue = await findSeries(analytics, { name: 'cpu_usage' });
    expect(catalogue.map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        { dc: 'eu', host: 'a' },
        { dc: 'eu', host: 'b' },
      ]),
    );
    expect(catalogue[0]).toMatchObject({ kind: 'gauge', unit: '%', role: 'value' });
  });

  it('round-trips awkward values exactly: negatives, many decimals, full precision, large integers', async () => {
    const odd = defineSeries({ name: 'odd_values', labels: {}, kind: 'gauge' });
    const values = [-1.5, 0, 0.1 + 0.2, 123456.789012, -0.000001, 2 ** 53 - 1, 1e-300, Math.PI, 1e300];
    await append(values.map((v, i) => [odd, T0 + i, v] as [SeriesDef, number, number]));
    await runner.waitFor();
    const points = await rawRange(
      analytics,
      { seriesId: odd.id },
      { from: new Date(T0), to: new Date(T0 + 100) },
    );
    expect(points.map((p) => p.value)).toEqual(values);
  });

  it('keeps 1-minute and 1-hour rollups equal to the raw samples', async () => {
    const r = { from: new Date(T0), to: new Date(T0 + 7_200_000) };
    const raw = await downsample(analytics, { seriesId: gauge('a').id }, r, 60_000 / 2);
    const minute = await downsample(analytics, { seriesId: gauge('a').id }, r, 60_000);
    const hour = await downsample(analytics, { seriesId: gauge('a').id }, r, 3_600_000);
    expect(raw).toHaveLength(240);
    expect(minute).toHaveLength(120);
    expect(hour).toHaveLength(2);
    expect(minute[0]!.count).toBe(60);
    expect(hour.map((h) => h.count)).toEqual([3600, 3600]);
    const series = expected.get(gauge('a').id)!;
    const firstHour = series.slice(0, 3600).map(([, v]) => v);
    expect(hour[0]!.min).toBe(Math.min(...firstHour));
    expect(hour[0]!.max).toBe(Math.max(...firstHour));
    expect(hour[0]!.sum).toBeCloseTo(
      firstHour.reduce((a, b) => a + b, 0),
      6,
    );
    expect(minute[5]!.avg).toBeCloseTo((raw[10]!.sum + raw[11]!.sum) / 60, 9);
  });

  it('aggregates grouped by labels: avg, max, count, percentiles and counter rate across a reset', async () => {
    const r = { from: new Date(T0), to: new Date(T0 + 7_200_000) };
    const byHost = await aggregate(analytics, { name: 'cpu_usage', groupBy: ['host'], fn: 'max', ...r });
    expect(byHost).toEqual([
      { labels: { host: 'a' }, value: 60, series: 1, fromRollups: true },
      { labels: { host: 'b' }, value: 121, series: 1, fromRollups: true },
    ]);
    const total = await aggregate(analytics, { name: 'cpu_usage', fn: 'count', ...r });
    expect(total).toEqual([{ labels: {}, value: 2 * 7200, series: 2, fromRollups: true }]);
    const p50 = await aggregate(analytics, { name: 'cpu_usage', labels: { host: 'a' }, fn: 'p50', ...r });
    expect(Math.abs(p50[0]!.value - 50)).toBeLessThan(1);
    const rates = await aggregate(analytics, { name: 'requests_total', groupBy: ['host'], fn: 'rate', ...r });
    // host a: 5/s with a reset at the hour (the sample after the reset counts from 0); host b: 2/s;
    // the increase over the range divided by the range's length.
    expect(rates[0]!.labels).toEqual({ host: 'a' });
    expect(rates[0]!.value).toBeCloseTo((3599 * 5 + 3599 * 5) / 7200, 9);
    expect(rates[1]!.value).toBeCloseTo((7199 * 2) / 7200, 9);
  });

  it('correlates two series over aligned buckets', async () => {
    const r = { from: new Date(T0), to: new Date(T0 + 7_200_000), stepMs: 60_000 };
    const same = await correlation(analytics, { seriesId: gauge('a').id }, { seriesId: gauge('b').id }, r);
    expect(same.buckets).toBe(120);
    expect(same.pearson).toBeCloseTo(1, 6);
    const none = await correlation(analytics, { seriesId: gauge('a').id }, { name: 'nothing_here' }, r);
    expect(none).toEqual({ pearson: Number.NaN, buckets: 0 });
  });

  it('recovers after rows were written past the checkpoint: raw rows and rollups exact again', async () => {
    await runner.stop();
    const extra: [SeriesDef, number, number][] = [];
    for (let s = 0; s < 90; s++) extra.push([gauge('a'), T0 + 7_200_000 + s * 1000, 70]);
    // A crashed run: it wrote this batch's rows (and, through the views, rollups) but no checkpoint.
    const batch = batchOf('agent1', seq, extra);
    const appended = await events.append('samples-agent1', [batchEvent(batch)]);
    seq++;
    await metricSeriesProjection().write(
      [{ ...(await first(events.readAll({ after: appended.position - 1n })))! }],
      analytics,
    );
    await metricSeriesProjection().write(
      [{ ...(await first(events.readAll({ after: appended.position - 1n })))! }],
      analytics,
    );
    const doubled = await downsample(
      analytics,
      { seriesId: gauge('a').id },
      { from: new Date(T0 + 7_200_000), to: new Date(T0 + 7_300_000) },
      60_000,
    );
    expect(doubled.map((b) => b.count)).toEqual([120, 60]);
    await runner.start();
    await runner.waitFor();
    const r = { from: new Date(T0 + 7_200_000), to: new Date(T0 + 7_300_000) };
    const minute = await downsample(analytics, { seriesId: gauge('a').id }, r, 60_000);
    expect(minute.map((b) => b.count)).toEqual([60, 30]);
    const raw = await rawRange(analytics, { seriesId: gauge('a').id }, r);
    expect(raw).toHaveLength(90);
    const hour = await downsample(
      analytics,
      { seriesId: gauge('a').id },
      { from: new Date(T0), to: new Date(T0 + 3 * 3_600_000) },
      3_600_000,
    );
    expect(hour.map((h) => h.count)).toEqual([3600, 3600, 90]);
  });
});

async function first<T>(iterable: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of iterable) return item;
  return undefined;
}
