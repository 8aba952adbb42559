import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { buildDataset } from '../../../src/learning/features/build.js';
import { DatasetSpec } from '../../../src/learning/features/dataset-spec.js';
import { alertsProjection } from '../../../src/projections/alerts/index.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import { pipelineFindingsProjection } from '../../../src/projections/pipeline-findings/index.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, JsonValue } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const MIN = 60_000;
const CPU_A = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });
const CPU_B = defineSeries({ name: 'cpu', labels: { host: 'b' }, kind: 'gauge' });
const MEM_A = defineSeries({ name: 'mem', labels: { host: 'a' }, kind: 'gauge' });

/** Bucket averages as written below: cpu{host=a} has no sample in minute 4; mem{host=a} is m². */
const cpu = (m: number) => (m === 4 ? Number.NaN : 15 + m);
const mem = (m: number) => m * m;

/** An alert manager transition, as the manager records it in `alertmanager-main`. */
function transition(type: 'alertPending' | 'alertFired', rule: string, series: SeriesDef, at: number) {
  return {
    id: randomUUID(),
    type,
    data: {
      key: `${rule}:${series.id}`,
      rule,
      seriesId: series.id,
      labels: series.labels,
      severity: 'warning',
      value: 1,
      since: at,
      at,
      sourcePosition: null,
    } as unknown as JsonValue,
  };
}

function anomaly(series: SeriesDef, ts: number, score: number) {
  return {
    id: randomUUID(),
    type: 'anomalyDetected',
    data: {
      sourcePosition: '1',
      seriesId: series.id,
      name: series.name,
      labels: series.labels,
      ts,
      value: 99,
      score,
      detector: 'zscore',
      expectedLow: 0,
      expectedHigh: 1,
      window: '',
      windows: [],
    } as unknown as JsonValue,
  };
}

/** The features the spec below asks for, computed by hand for bucket i (row time T0 + (i + 1) min). */
function expectedRow(i: number): number[] {
  const derived = (x: (m: number) => number) => {
    const [v, prev] = [x(i), x(i - 1)];
    return [v, prev, (v + prev) / 2, Math.abs(v - prev) / 2, v - prev];
  };
  return [...derived(cpu), ...derived(mem), 10 + (i + 1) / 60];
}

describe('a failure-prediction dataset from stored series, alerts and anomalies', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let runners: ProjectionRunner[];

  beforeAll(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'learning_ds', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    const samples: [SeriesDef, number, number][] = [];
    for (let m = 0; m < 10; m++) {
      if (m !== 4)
        samples.push([CPU_A, T0 + m * MIN + 10_000, 10 + m], [CPU_A, T0 + m * MIN + 40_000, 20 + m]);
      samples.push([MEM_A, T0 + m * MIN + 30_000, mem(m)], [CPU_B, T0 + m * MIN + 30_000, 50]);
    }
    await events.append('samples-agent1', [batchEvent(batchOf('agent1', 0, samples))]);
    await events.append('alertmanager-main', [
      transition('alertFired', 'cpu_high', CPU_A, T0 + 3.5 * MIN),
      transition('alertPending', 'cpu_high', CPU_A, T0 + 5 * MIN), // not fired: no label
      transition('alertFired', 'cpu_high', CPU_B, T0 + 6.5 * MIN), // another series
      transition('alertFired', 'cpu_high', CPU_A, T0 + 9 * MIN), // exactly at a row's time
      transition('alertFired', 'disk_full', CPU_A, T0 + 10.5 * MIN), // another rule
    ]);
    await events.append('findings-p1', [
      anomaly(MEM_A, T0 + 2.5 * MIN, 0.9),
      anomaly(MEM_A, T0 + 8 * MIN, 0.3),
    ]);
    runners = [metricSeriesProjection(), alertsProjection, pipelineFindingsProjection].map((projection) =>
      createProjectionRunner({ projection, events, analytics, logger: silentLogger }),
    );
    for (const r of runners) await r.start();
    for (const r of runners) await r.waitFor();
  }, 120_000);

  afterAll(async () => {
    for (const r of runners) await r.stop();
    await analytics.close();
    await events.close();
  });

  const spec = (label: Record<string, unknown>) =>
    DatasetSpec.parse({
      fromSeries: {
        series: [
          { name: 'cpu', matchers: [{ label: 'host', value: 'a' }] },
          { name: 'mem', matchers: [{ label: 'host', value: 'a' }] },
        ],
        from: T0,
        to: T0 + 10 * MIN,
        stepMs: MIN,
        lags: [1],
        rolling: [2],
        differences: [1],
        calendar: { timeOfDay: true, encoding: 'numeric' },
        label,
      },
    });

  it('labels a row 1 iff an alert of the rule fired on the series in (t, t + h], and the features are as computed by hand', async () => {
    const now = T0 + 11 * MIN; // the horizon of the last row (t = 10 min, h = 2 min) has not passed
    const dataset = await buildDataset(
      analytics,
      spec({
        kind: 'alert',
        rule: 'cpu_high',
        selector: { name: 'cpu', matchers: [{ label: 'host', value: 'a' }] },
        horizonMs: 2 * MIN,
      }),
      { now, path: 'spec' },
    );
    expect(dataset.featureNames).toEqual([
      'cpu{host=a}',
      'cpu{host=a}_lag1',
      'cpu{host=a}_mean2',
      'cpu{host=a}_std2',
      'cpu{host=a}_diff1',
      'mem{host=a}',
      'mem{host=a}_lag1',
      'mem{host=a}_mean2',
      'mem{host=a}_std2',
      'mem{host=a}_diff1',
      'hour_of_day',
    ]);
    // Buckets 0 (no lag), 4 and 5 (cpu missing in minute 4) lack inputs; bucket 9's label is not known yet.
    const kept = [1, 2, 3, 6, 7, 8];
    expect(dataset.times).toEqual(kept.map((i) => T0 + (i + 1) * MIN));
    expect(dataset.candidates).toBe(10);
    expect(dataset.dropped).toEqual({ missingInputs: 3, missingTarget: 0, labelUnknown: 1 });
    for (const [r, row] of dataset.features.entries())
      for (const [j, v] of expectedRow(kept[r]!).entries()) expect(row[j]).toBeCloseTo(v, 9);
    // Fired at 3.5 min: rows at 2 and 3 min. Fired at 9 min: rows at 7 and 8, not the row at 9 itself.
    // The pending one (5 min), host b's (6.5 min) and disk_full's (10.5 min) do not count.
    expect(dataset.target).toEqual([1, 1, 0, 1, 1, 0]);
    expect(dataset.series.map((s) => [s.column, s.seriesId])).toEqual([
      ['cpu{host=a}', CPU_A.id],
      ['mem{host=a}', MEM_A.id],
    ]);
  });

  it("without a rule or selector: any alert fired on the dataset's own series", async () => {
    const dataset = await buildDataset(analytics, spec({ kind: 'alert', horizonMs: 2 * MIN }), {
      now: T0 + 60 * MIN,
      path: 'spec',
    });
    // disk_full at 10.5 min now labels the rows at 9 and 10 min too; host b is not in the dataset.
    expect(dataset.times).toEqual([1, 2, 3, 6, 7, 8, 9].map((i) => T0 + (i + 1) * MIN));
    expect(dataset.target).toEqual([1, 1, 0, 1, 1, 1, 1]);
  });

  it('labels from anomalies on a series, at or above a score', async () => {
    const at = (label: Record<string, unknown>) =>
      buildDataset(analytics, spec(label), { now: T0 + 60 * MIN, path: 'spec' }).then((d) => d.target);
    // Anomalies on mem at 2.5 min (0.9) and 8 min (0.3); h = 1 min: rows at 2 min, and at 7 min.
    expect(await at({ kind: 'anomaly', selector: { name: 'mem' }, minScore: 0.5, horizonMs: MIN })).toEqual([
      1, 0, 0, 0, 0, 0, 0,
    ]);
    expect(await at({ kind: 'anomaly', selector: { name: 'mem' }, horizonMs: MIN })).toEqual([
      1, 0, 0, 1, 0, 0, 0,
    ]);
    expect(await at({ kind: 'anomaly', pipelineId: 'other', horizonMs: MIN })).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('a target series: its value horizonSteps later; rows without it are counted', async () => {
    const dataset = await buildDataset(
      analytics,
      DatasetSpec.parse({
        fromSeries: {
          series: [{ name: 'mem' }],
          from: T0,
          to: T0 + 10 * MIN,
          stepMs: MIN,
          target: { series: { name: 'cpu', matchers: [{ label: 'host', value: 'a' }] }, horizonSteps: 1 },
        },
      }),
      { now: T0 + 60 * MIN, path: 'spec' },
    );
    const kept = [0, 1, 2, 4, 5, 6, 7, 8];
    expect(dataset.features).toEqual(kept.map((i) => [mem(i)]));
    expect(dataset.target).toEqual(kept.map((i) => cpu(i + 1)));
    expect(dataset.dropped).toEqual({ missingInputs: 0, missingTarget: 2, labelUnknown: 0 });
  });

  it('names the field at fault', async () => {
    const bad = DatasetSpec.parse({
      fromSeries: { series: [{ name: 'mem' }, { name: 'nothing' }], from: T0, to: T0 + MIN, stepMs: MIN },
    });
    const error = await buildDataset(analytics, bad, { now: T0, path: 'spec' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'spec.fromSeries.series.1', message: 'selects no series with samples in [from, to)' },
    ]);
    const regex = DatasetSpec.parse({
      fromSeries: {
        series: [{ matchers: [{ label: 'host', op: 'regex', value: '(' }] }],
        from: T0,
        to: T0 + MIN,
        stepMs: MIN,
      },
    });
    const wrong = await buildDataset(analytics, regex, { now: T0, path: 'spec' }).catch((e: unknown) => e);
    expect((wrong as ValidationError).issues[0]!.path).toBe('spec.fromSeries.series.0.matchers[0].value');
  });
});
