import { createEnsemble } from '../analytics/ensemble.js';
import { createTemplateBank, type TemplateBankSnapshot, type TemplateSpec } from '../analytics/patterns.js';
import {
  createPeriodicityBank,
  type PeriodicityBankSnapshot,
  type PeriodicityOptions,
  type PeriodicitySink,
} from '../analytics/periodicity.js';
import {
  createTrendBank,
  type TrendBankSnapshot,
  type TrendState,
  type TrendTrackerOptions,
} from '../analytics/trend.js';
import {
  createWindowBank,
  type WindowBankSnapshot,
  type WindowSpec,
  type WindowStats,
} from '../analytics/windows.js';

type Ensemble = ReturnType<typeof createEnsemble>;
export type EnsembleSnapshot = ReturnType<Ensemble['snapshot']>;

export interface AnalyticsConfig {
  readonly minAnomalyScore: number;
  readonly trends: TrendTrackerOptions;
  readonly patterns: readonly TemplateSpec[];
  readonly windows: readonly WindowSpec[];
  /** Seasonality, frequencies and recurring anomalies, over the named window; absent: off. */
  readonly periodicity?: PeriodicityOptions & { readonly window: string };
}

/** An anomaly's context: every window's statistics before the sample, and the one it departs from most. */
export interface WindowContext {
  readonly windows: WindowStats[];
  /** Index in `windows`. */
  readonly window: number;
}

/** What one batch found, by slot and time; `PipelineEngine` turns these into findings with series. */
export interface AnalyticsSink extends PeriodicitySink {
  anomaly(
    slot: number,
    ts: number,
    value: number,
    score: number,
    detector: string,
    expectedLow: number,
    expectedHigh: number,
    context: WindowContext,
  ): void;
  trend(slot: number, ts: number, state: TrendState): void;
  pattern(slot: number, ts: number, pattern: string, distance: number): void;
}

export interface SeriesAnalyticsSnapshot {
  /** The ensemble of each slot, null for a slot never analysed. */
  readonly ensembles: (EnsembleSnapshot | null)[];
  readonly trends: TrendBankSnapshot;
  readonly patterns: TemplateBankSnapshot;
  readonly windows: WindowBankSnapshot;
  readonly periodicity?: PeriodicityBankSnapshot;
}

/**
 * Per-series analytics over dense series slots: the detector ensemble (one per slot, created when
 * the slot is first analysed), trends, stored shapes and sliding windows (state of every slot in
 * typed arrays). Pure:
 * the same samples in the same order give the same findings, and a snapshot continues exactly.
 */
export class SeriesAnalytics {
  private readonly ensembles: (Ensemble | null)[] = [];
  private readonly trends;
  private readonly patterns;
  private readonly windows;
  private readonly periodicity;
  /** The window periodicity is analysed over (an index into the windows). */
  private readonly periodicWindow: number;
  /** Anomalies of the batch in hand, by sample index (reused). */
  private readonly found: {
    index: number;
    score: number;
    detector: string;
    expectedLow: number;
    expectedHigh: number;
  }[] = [];

  constructor(
    private readonly config: AnalyticsConfig,
    snapshot?: SeriesAnalyticsSnapshot,
  ) {
    this.trends = createTrendBank(config.trends);
    this.patterns = createTemplateBank(config.patterns);
    this.windows = createWindowBank(config.windows);
    this.periodicity = config.periodicity ? createPeriodicityBank(config.periodicity) : null;
    this.periodicWindow = Math.max(
      0,
      config.windows.findIndex((w) => w.name === config.periodicity?.window),
    );
    if (!snapshot) return;
    for (const [slot, saved] of snapshot.ensembles.entries()) {
      if (!saved) continue;
      const ensemble = createEnsemble();
      ensemble.restore(saved);
      this.ensembles[slot] = ensemble;
    }
    this.trends.restore(snapshot.trends);
    this.patterns.restore(snapshot.patterns);
    this.windows.restore(snapshot.windows);
    if (snapshot.periodicity) this.periodicity?.restore(snapshot.periodicity);
  }

  /**
   * The windows of a slot as they stand, and the one `value` departs from most (in standard
   * deviations; a window whose spread is 0 counts only when the value differs from its mean).
   */
  private windowContext(slot: number, value: number): WindowContext {
    const windows = this.windows.specs.map((_, w) => this.windows.stats(slot, w));
    let window = 0;
    let most = -1;
    for (const [w, s] of windows.entries()) {
      if (s.count === 0) continue;
      const deviation = Math.abs(value - s.mean);
      const z = s.std > 0 ? deviation / s.std : deviation > 0 ? Number.POSITIVE_INFINITY : 0;
      if (z > most) {
        most = z;
        window = w;
      }
    }
    return { windows, window };
  }

  /**
   * Analyses samples given as columns (slot, time, value), in the order given — which must be each
   * slot's time order — reporting what they found to `sink`.
   *
   * One pass over the batch per part (ensembles, trends, shapes, windows and periodicity): each pass
   * keeps only its own state hot, which across thousands of series is what the time goes on. Every
   * kind of finding still comes out in sample order, and an anomaly's window context is taken in the
   * windows pass just before its own sample enters the windows, as if sample by sample.
   */
  analyseBatch(
    slots: Int32Array,
    ts: Float64Array,
    observed: Float64Array,
    sink: AnalyticsSink,
    length = slots.length,
  ): void {
    const values = heldForAnalysis(observed, length);
    const minScore = this.config.minAnomalyScore;
    // Pass 1: the ensembles; anomalies are held (by sample index) for the windows pass.
    const found = this.found;
    found.length = 0;
    for (let i = 0; i < length; i++) {
      const slot = slots[i]!;
      let ensemble = this.ensembles[slot];
      if (!ensemble) {
        while (this.ensembles.length < slot) this.ensembles.push(null);
        ensemble = createEnsemble();
        this.ensembles[slot] = ensemble;
      }
      const detection = ensemble.update(values[i]!);
      const strongest = detection.strongest;
      // (Copied out: a detector may reuse its result object on the next update.)
      if (strongest && detection.score >= minScore)
        found.push({
          index: i,
          score: detection.score,
          detector: strongest.detector,
          expectedLow: strongest.expectedLow,
          expectedHigh: strongest.expectedHigh,
        });
    }
    // Pass 2: trends.
    const trends = this.trends;
    for (let i = 0; i < length; i++) {
      const trend = trends.update(slots[i]!, ts[i]!, values[i]!);
      if (trend) sink.trend(slots[i]!, ts[i]!, trend);
    }
    // Pass 3: stored shapes.
    const patterns = this.patterns;
    if (patterns.templates.length) {
      const templates = patterns.templates;
      for (let i = 0; i < length; i++) {
        const matches = patterns.update(slots[i]!, values[i]!);
        for (let m = 0; m < matches; m++)
          sink.pattern(
            slots[i]!,
            ts[i]!,
            templates[patterns.matchedTemplate[m]!]!.name,
            patterns.matchedDistance[m]!,
          );
      }
    }
    // Pass 4: windows (with the anomalies' context) and periodicity.
    const windows = this.windows;
    const periodicity = this.periodicity;
    const pw = this.periodicWindow;
    let next = 0;
    for (let i = 0; i < length; i++) {
      const slot = slots[i]!;
      const t = ts[i]!;
      const value = values[i]!;
      const anomaly = next < found.length && found[next]!.index === i ? found[next++]! : null;
      if (anomaly)
        sink.anomaly(
          slot,
          t,
          observed[i]!,
          anomaly.score,
          anomaly.detector,
          anomaly.expectedLow,
          anomaly.expectedHigh,
          this.windowContext(slot, value),
        );
      windows.push(slot, t, value);
      if (periodicity) {
        if (anomaly) periodicity.anomaly(slot, t, sink);
        if (periodicity.sample(slot, windows.count(slot, pw)))
          periodicity.analyse(slot, t, windows.values(slot, pw), windows.times(slot, pw), sink);
      }
    }
  }

  snapshot(): SeriesAnalyticsSnapshot {
    return {
      ensembles: Array.from(this.ensembles, (e) => e?.snapshot() ?? null),
      trends: this.trends.snapshot(),
      patterns: this.patterns.snapshot(),
      windows: this.windows.snapshot(),
      ...(this.periodicity ? { periodicity: this.periodicity.snapshot() } : {}),
    };
  }
}

/**
 * The largest magnitude the analytics take: squares of larger values overflow doubles in the rolling
 * sums (1e154² > 1.8e308), after which a series' statistics would stay non-finite for good. A value
 * beyond it is analysed as if it were at it (an anomaly still reports the value observed).
 */
export const ANALYSIS_LIMIT = 1e150;

function heldForAnalysis(values: Float64Array, length: number): Float64Array {
  let i = 0;
  while (i < length && values[i]! <= ANALYSIS_LIMIT && values[i]! >= -ANALYSIS_LIMIT) i++;
  if (i === length) return values;
  const held = values.slice(0, length);
  for (; i < length; i++) held[i] = Math.max(-ANALYSIS_LIMIT, Math.min(ANALYSIS_LIMIT, held[i]!));
  return held;
}
