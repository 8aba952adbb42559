/**
 * The throughput half of the analytics benchmark: samples per second on one core through each part
 * of the per-series analytics, over the same synthetic series (a sine per series, a spike on every
 * tenth series at step 700), generated before timing so that only the analytics are measured.
 */
import { createEnsemble } from '../src/domain/analytics/ensemble.js';
import { createTemplateBank } from '../src/domain/analytics/patterns.js';
import {
  createPeriodicityBank,
  type PeriodicityOptions,
  type PeriodicitySink,
} from '../src/domain/analytics/periodicity.js';
import { createTrendBank } from '../src/domain/analytics/trend.js';
import { createWindowBank, type WindowSpec } from '../src/domain/analytics/windows.js';
import { defineSeries } from '../src/domain/metrics/identity.js';
import type { PipelineDefinition } from '../src/domain/pipeline/definition.js';
import { PipelineEngine } from '../src/domain/pipeline/engine.js';
import { median } from './report.js';

export const SERIES = 1000;
export const STEPS = 1000;
const RUNS = 3;
const T0 = 1_700_000_000_000;

export interface Rate {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

/** Values step-major (all series at step 0, then step 1, …), as a pipeline releases them. */
function synthetic(): Float64Array {
  const values = new Float64Array(SERIES * STEPS);
  for (let step = 0; step < STEPS; step++)
    for (let s = 0; s < SERIES; s++)
      values[step * SERIES + s] = 50 + Math.sin(step * 0.1 + s) * 5 + (step === 700 && s % 10 === 0 ? 80 : 0);
  return values;
}

/** Runs `body` once to warm up, then RUNS times on fresh state; samples per second of each run. */
function measure(body: () => void): Rate {
  body();
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    body();
    rates.push((SERIES * STEPS) / ((performance.now() - started) / 1000));
  }
  return { median: median(rates), low: Math.min(...rates), high: Math.max(...rates) };
}

export function throughput(definition: PipelineDefinition) {
  const analytics = definition.analytics!;
  const values = synthetic();
  const slots = Int32Array.from({ length: SERIES }, (_, s) => s);
  const defs = Array.from({ length: SERIES }, (_, i) =>
    defineSeries({ name: 'bench_metric', labels: { s: String(i) }, kind: 'gauge' }),
  );
  let anomalies = 0;
  let sink = 0;

  const ensemble = measure(() => {
    const members = Array.from({ length: SERIES }, () => createEnsemble());
    for (let i = 0; i < values.length; i++) sink += members[i % SERIES]!.update(values[i]!).score;
  });

  const trendsAndShapes = measure(() => {
    const trends = createTrendBank(analytics.trends);
    const shapes = createTemplateBank(analytics.patterns);
    for (let step = 0; step < STEPS; step++) {
      const ts = T0 + step * 1000;
      for (let s = 0; s < SERIES; s++) {
        const v = values[step * SERIES + s]!;
        if (trends.update(s, ts, v)) sink++;
        sink += shapes.update(s, v);
      }
    }
  });

  const windows = measure(() => {
    const bank = createWindowBank(analytics.windows);
    for (let step = 0; step < STEPS; step++) {
      const ts = T0 + step * 1000;
      for (let s = 0; s < SERIES; s++) bank.push(s, ts, values[step * SERIES + s]!);
    }
    sink += bank.mean(0, 0);
  });

  // Periodicity on its own schedule, over the long window (the windows' own cost is the part above).
  const periodicity = analytics.periodicity;
  const periodic = periodicity ? measurePeriodicity(periodicity, analytics.windows, values) : null;

  // The headline: the engine's analysis entry point, in columnar batches of one step (1,000 samples).
  const headline = measure(() => {
    const engine = new PipelineEngine(definition);
    for (const def of defs) engine.slotOf(def);
    const ts = new Float64Array(SERIES);
    anomalies = 0;
    for (let step = 0; step < STEPS; step++) {
      ts.fill(T0 + step * 1000);
      engine.analyseBatch(slots, ts, values.subarray(step * SERIES, (step + 1) * SERIES));
      anomalies += engine.tick().anomalies.length;
    }
  });

  // Everything the engine does per sample: checks, reorder buffer, release order, analysis, pass-through.
  const engineOverall = measure(() => {
    const engine = new PipelineEngine(definition);
    const slot = defs.map((def) => engine.slotOf(def));
    for (let step = 0; step < STEPS; step++) {
      const ts = T0 + step * 1000;
      for (let s = 0; s < SERIES; s++) engine.acceptAt(slot[s]!, ts, values[step * SERIES + s]!);
      sink += engine.tick().derived.length;
    }
  });

  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the measured work observable');
  const rows: [string, Rate][] = [
    ['detector ensemble alone', ensemble],
    ['trends + stored shapes alone', trendsAndShapes],
    [`sliding windows alone (${analytics.windows.map((w) => w.name).join(', ')})`, windows],
    ...(periodic
      ? [
          [
            `periodicity alone (one analysis per ${periodicity ? periodicity.every : 0} samples), per sample`,
            periodic,
          ] as [string, Rate],
        ]
      : []),
    ['analyseBatch (ensemble + trends + shapes + windows + periodicity), headline', headline],
    ['engine overall (acceptAt + tick)', engineOverall],
  ];
  return {
    rows,
    anomalies,
    headline: headline.median,
    figures: {
      ensembleSamplesPerSecond: Math.round(ensemble.median),
      trendsPatternsSamplesPerSecond: Math.round(trendsAndShapes.median),
      windowsSamplesPerSecond: Math.round(windows.median),
      periodicitySamplesPerSecond: periodic ? Math.round(periodic.median) : 0,
      engineSamplesPerSecond: Math.round(engineOverall.median),
    },
  };
}

/**
 * Periodicity as the pipeline runs it, amortised per sample: every series analysed once per `every`
 * of its samples over its full window (filled before timing: the windows' own cost is a part of its own).
 */
function measurePeriodicity(
  periodicity: PeriodicityOptions & { window: string },
  specs: readonly WindowSpec[],
  values: Float64Array,
): Rate {
  const bank = createWindowBank(specs);
  const w = specs.findIndex((x) => x.name === periodicity.window);
  for (let step = 0; step < STEPS; step++)
    for (let s = 0; s < SERIES; s++) bank.push(s, T0 + step * 1000, values[step * SERIES + s]!);
  let reported = 0;
  const reports: PeriodicitySink = {
    seasonalityDetected: () => reported++,
    seasonalityLost: () => reported++,
    frequenciesChanged: () => reported++,
    recurringAnomalyDetected: () => reported++,
  };
  const analyses = Math.round((SERIES * STEPS) / periodicity.every);
  const rate = measure(() => {
    const due = createPeriodicityBank(periodicity);
    for (let a = 0; a < analyses; a++) {
      const slot = a % SERIES;
      due.analyse(slot, T0, bank.values(slot, w), bank.times(slot, w), reports);
    }
  });
  if (reported < 0) throw new Error('unreachable');
  return rate;
}
