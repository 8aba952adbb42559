/**
 * The 100,000-series half of the analytics benchmark: per-series state, throughput and checkpoints at
 * scale, on one core.
 * - State: bytes of memory a default ensemble takes (heap and typed arrays, over 10,000 ensembles at
 *   steady state), and the analytics' whole per-series memory (ensemble, windows, trends, shapes,
 *   periodicity) over the 100,000-series engine.
 * - Throughput: `analyseBatch` (the headline's path) and the engine overall (`acceptAt` + `tick`) over
 *   100,000 series, one batch a step.
 * - Checkpoints: a full per-series checkpoint of 100,000 series at steady state (each series restored
 *   from the record of a series that ran 3,000 steps) written to the embedded store, one with 1 % of the
 *   series changed, and reading them back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { createEnsemble } from '../src/domain/analytics/ensemble.js';
import { defineSeries } from '../src/domain/metrics/identity.js';
import type { PipelineDefinition } from '../src/domain/pipeline/definition.js';
import { PipelineEngine } from '../src/domain/pipeline/engine.js';
import type { SeriesRecord } from '../src/domain/pipeline/series-analytics.js';
import { createCheckpointStore, type PipelineCheckpoint } from '../src/pipelines/checkpoints.js';
import type { Source } from '../src/runtime/envelope.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';

export const SCALE_SERIES = 100_000;
const SCALE_STEPS = 21;
const T0 = 1_700_000_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes in use: the JS heap and typed arrays' memory outside it. */
function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const value = (s: number, step: number) =>
  50 + Math.sin(step * 0.1 + s) * 5 + (step === SCALE_STEPS - 5 && s % 10 === 0 ? 80 : 0);

/** Memory of one default ensemble at steady state (3,000 samples: every ring full). */
function ensembleBytes(): number {
  const n = 10_000;
  const before = used();
  const ensembles = Array.from({ length: n }, () => createEnsemble());
  const warm = createEnsemble();
  for (let i = 0; i < 3000; i++) warm.update(value(0, i));
  const state = warm.snapshot();
  for (const e of ensembles) e.restore(state);
  const bytes = (used() - before) / n;
  if (ensembles.length !== n) throw new Error('unreachable');
  return bytes;
}

/**
 * Memory that evicted series give back: 10,000 series analysed, then evicted as idle (their rows
 * freed), then 10,000 other series analysed. The second cohort takes the rows the first gave up, so
 * the analytics grow by about an ensemble a series, against the whole per-series memory the first
 * cohort took.
 */
function churn(definition: PipelineDefinition): { firstBytes: number; afterEvictionBytes: number } {
  const n = 10_000;
  const engine = new PipelineEngine(definition);
  const analytics = engine.seriesAnalytics!;
  analytics.trackSeries = true;
  const cohort = (from: number) => {
    const slots = Int32Array.from({ length: n }, (_, s) =>
      engine.slotOf(defineSeries({ name: 'bench_churn', labels: { s: String(from + s) }, kind: 'gauge' })),
    );
    const values = new Float64Array(n);
    const ts = new Float64Array(n);
    for (let step = 0; step < 300; step++) {
      for (let s = 0; s < n; s++) values[s] = value(from + s, step);
      ts.fill(T0 + (from + step) * 1000);
      engine.analyseBatch(slots, ts, values);
    }
    return slots;
  };
  let before = used();
  const first = cohort(0);
  const firstBytes = (used() - before) / n;
  for (const slot of first) analytics.markEvicted(slot);
  analytics.dropEvicted();
  before = used();
  cohort(n);
  const afterEvictionBytes = (used() - before) / n;
  if (analytics.rowStats().total !== n) throw new Error(`rows not reused: ${analytics.rowStats().total}`);
  return { firstBytes, afterEvictionBytes };
}

export async function scale(definition: PipelineDefinition) {
  const stateBytesPerSeries = ensembleBytes();
  const churned = churn(definition);
  const defs = Array.from({ length: SCALE_SERIES }, (_, i) =>
    defineSeries({ name: 'bench_scale', labels: { s: String(i) }, kind: 'gauge' }),
  );
  const slots = Int32Array.from({ length: SCALE_SERIES }, (_, s) => s);
  const values = new Float64Array(SCALE_SERIES);
  const ts = new Float64Array(SCALE_SERIES);

  // analyseBatch over 100,000 series (the headline's path), and the memory the analytics take.
  const before = used();
  let engine: PipelineEngine | null = new PipelineEngine(definition);
  for (const def of defs) engine.slotOf(def);
  // The first step creates every series' state (timed on its own); the rate is over the steps after it.
  let analysed = 0;
  let started = performance.now();
  let firstStepMs = 0;
  let analyseMs = 0;
  for (let step = 0; step < SCALE_STEPS; step++) {
    for (let s = 0; s < SCALE_SERIES; s++) values[s] = value(s, step);
    ts.fill(T0 + step * 1000);
    started = performance.now();
    engine.analyseBatch(slots, ts, values);
    engine.tick();
    const ms = performance.now() - started;
    if (step === 0) firstStepMs = ms;
    else {
      analyseMs += ms;
      analysed += SCALE_SERIES;
    }
  }
  const analyseRate = analysed / (analyseMs / 1000);
  const analyticsBytesPerSeries = (used() - before) / SCALE_SERIES;
  engine = null;

  // The engine overall over 100,000 series.
  engine = new PipelineEngine(definition);
  const slotOf = defs.map((def) => engine!.slotOf(def));
  let engineMs = 0;
  for (let step = 0; step < SCALE_STEPS; step++) {
    const t = T0 + step * 1000;
    for (let s = 0; s < SCALE_SERIES; s++) values[s] = value(s, step);
    started = performance.now();
    for (let s = 0; s < SCALE_SERIES; s++) engine.acceptAt(slotOf[s]!, t, values[s]!);
    engine.tick();
    if (step > 0) engineMs += performance.now() - started;
  }
  const engineRate = analysed / (engineMs / 1000);

  // Checkpoints of 100,000 series at steady state: each restored from a series' record after 3,000 steps.
  const one = new PipelineEngine(definition);
  const oneSlot = Int32Array.of(one.slotOf(defs[0]!));
  for (let step = 0; step < 3000; step++)
    one.analyseBatch(oneSlot, Float64Array.of(T0 + step * 1000), Float64Array.of(value(0, step)));
  const record = one.seriesAnalytics!.seriesState(0)! as SeriesRecord;
  const analytics = engine.seriesAnalytics!;
  analytics.trackSeries = true;
  for (let s = 0; s < SCALE_SERIES; s++) analytics.restoreSeries(s, record, false);
  const recordChars = JSON.stringify(record).length;
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const events = createSqliteEventStore({ path: join(dir, 'events.db') });
  const store = createCheckpointStore({ pipelineId: 'scale', events, logger: pino({ level: 'warn' }) });
  const checkpoint = (position: number): [PipelineCheckpoint, Source] => {
    const source: Source = { id: `bench-${position}`, position: BigInt(position) };
    return [
      {
        sourcePosition: String(position),
        definitionHash: 'bench',
        counters: { out: 0, quality: 0 },
        mode: 'realtime',
        rate: 0,
        lastCreatedAt: null,
        micro: { samples: 0, openedAt: null },
        emissions: 0,
        engine: engine!.snapshot(),
      },
      source,
    ];
  };
  started = performance.now();
  const [full, fullSource] = checkpoint(1);
  let revision = await store.write(full, fullSource, 0, {
    full: true,
    slots: analytics.liveSlots(),
    state: (slot) => analytics.seriesState(slot),
  });
  const checkpointMs = performance.now() - started;
  analytics.clearDirty();
  // 1 % of the series change.
  const changed = SCALE_SERIES / 100;
  for (let step = SCALE_STEPS; step < SCALE_STEPS + 1; step++) {
    for (let s = 0; s < changed; s++) values[s] = value(s, step);
    ts.fill(T0 + step * 1000);
    engine.analyseBatch(slots, ts, values, changed);
  }
  started = performance.now();
  const [incremental, incrementalSource] = checkpoint(2);
  revision = await store.write(incremental, incrementalSource, revision, {
    full: false,
    slots: analytics.dirtySlots(),
    state: (slot) => analytics.seriesState(slot),
  });
  const incrementalCheckpointMs = performance.now() - started;
  started = performance.now();
  const latest = await store.latest();
  let restored = 0;
  await store.readSeries(latest!.series!, () => {
    restored++;
  });
  const readBackMs = performance.now() - started;
  if (restored !== SCALE_SERIES + changed || revision <= 0) throw new Error(`read back ${restored} records`);
  await events.close();
  rmSync(dir, { recursive: true, force: true });
  const rssBytes = process.memoryUsage().rss;
  engine = null;

  return {
    rows: [
      ['default ensemble state at steady state, bytes a series', stateBytesPerSeries],
      [
        'analytics memory (ensemble, windows, trends, shapes, periodicity), bytes a series',
        analyticsBytesPerSeries,
      ],
      ['analytics memory of 10,000 new series, bytes a series', churned.firstBytes],
      [
        'analytics memory of 10,000 new series after 10,000 idle ones were evicted, bytes a series',
        churned.afterEvictionBytes,
      ],
      [`first step of ${SCALE_SERIES} new series (their state created), ms`, firstStepMs],
      [
        `analyseBatch, ${SCALE_SERIES} series × ${SCALE_STEPS - 1} steps after the first, samples/s`,
        analyseRate,
      ],
      [`engine overall (acceptAt + tick), ${SCALE_SERIES} series, samples/s`, engineRate],
      ['per-series record (JSON chars, steady state)', recordChars],
      [`full checkpoint of ${SCALE_SERIES} series, ms`, checkpointMs],
      [`checkpoint with 1 % of ${SCALE_SERIES} series changed, ms`, incrementalCheckpointMs],
      [`reading ${SCALE_SERIES} series back, ms`, readBackMs],
      ['RSS after the 100k-series run, MB', rssBytes / 2 ** 20],
    ] as [string, number][],
    figures: {
      stateBytesPerSeries: Math.round(stateBytesPerSeries),
      analyticsBytesPerSeries: Math.round(analyticsBytesPerSeries),
      newSeriesBytes: Math.round(churned.firstBytes),
      newSeriesAfterEvictionBytes: Math.round(churned.afterEvictionBytes),
      scaleSeries: SCALE_SERIES,
      scaleSamplesPerSecond: Math.round(analyseRate),
      scaleFirstStepMs: Math.round(firstStepMs),
      scaleEngineSamplesPerSecond: Math.round(engineRate),
      seriesRecordChars: recordChars,
      checkpointMs: Math.round(checkpointMs),
      incrementalCheckpointMs: Math.round(incrementalCheckpointMs),
      checkpointReadBackMs: Math.round(readBackMs),
      rssMB: Math.round(rssBytes / 2 ** 20),
    },
  };
}
