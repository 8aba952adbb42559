import { createEnsemble } from '../analytics/ensemble.js';
import { createTemplateBank, type TemplateBankSnapshot, type TemplateSpec } from '../analytics/patterns.js';
import {
  createTrendBank,
  type TrendBankSnapshot,
  type TrendState,
  type TrendTrackerOptions,
} from '../analytics/trend.js';

type Ensemble = ReturnType<typeof createEnsemble>;
export type EnsembleSnapshot = ReturnType<Ensemble['snapshot']>;

export interface AnalyticsConfig {
  readonly minAnomalyScore: number;
  readonly trends: TrendTrackerOptions;
  readonly patterns: readonly TemplateSpec[];
}

/** What one batch found, by slot and time; `PipelineEngine` turns these into findings with series. */
export interface AnalyticsSink {
  anomaly(
    slot: number,
    ts: number,
    value: number,
    score: number,
    detector: string,
    expectedLow: number,
    expectedHigh: number,
  ): void;
  trend(slot: number, ts: number, state: TrendState): void;
  pattern(slot: number, ts: number, pattern: string, distance: number): void;
}

export interface SeriesAnalyticsSnapshot {
  /** The ensemble of each slot, null for a slot never analysed. */
  readonly ensembles: (EnsembleSnapshot | null)[];
  readonly trends: TrendBankSnapshot;
  readonly patterns: TemplateBankSnapshot;
}

/**
 * Per-series analytics over dense series slots: the detector ensemble (one per slot, created when
 * the slot is first analysed), trends and stored shapes (state of every slot in typed arrays). Pure:
 * the same samples in the same order give the same findings, and a snapshot continues exactly.
 */
export class SeriesAnalytics {
  private readonly ensembles: (Ensemble | null)[] = [];
  private readonly trends;
  private readonly patterns;

  constructor(
    private readonly config: AnalyticsConfig,
    snapshot?: SeriesAnalyticsSnapshot,
  ) {
    this.trends = createTrendBank(config.trends);
    this.patterns = createTemplateBank(config.patterns);
    if (!snapshot) return;
    for (const [slot, saved] of snapshot.ensembles.entries()) {
      if (!saved) continue;
      const ensemble = createEnsemble();
      ensemble.restore(saved);
      this.ensembles[slot] = ensemble;
    }
    this.trends.restore(snapshot.trends);
    this.patterns.restore(snapshot.patterns);
  }

  /**
   * Analyses samples given as columns (slot, time, value), in the order given — which must be each
   * slot's time order — reporting what they found to `sink`.
   */
  analyseBatch(
    slots: Int32Array,
    ts: Float64Array,
    values: Float64Array,
    sink: AnalyticsSink,
    length = slots.length,
  ): void {
    const minScore = this.config.minAnomalyScore;
    const trends = this.trends;
    const patterns = this.patterns;
    const templates = patterns.templates;
    for (let i = 0; i < length; i++) {
      const slot = slots[i]!;
      const t = ts[i]!;
      const value = values[i]!;
      let ensemble = this.ensembles[slot];
      if (!ensemble) {
        while (this.ensembles.length < slot) this.ensembles.push(null);
        ensemble = createEnsemble();
        this.ensembles[slot] = ensemble;
      }
      const detection = ensemble.update(value);
      const strongest = detection.strongest;
      if (strongest && detection.score >= minScore)
        sink.anomaly(
          slot,
          t,
          value,
          detection.score,
          strongest.detector,
          strongest.expectedLow,
          strongest.expectedHigh,
        );
      const trend = trends.update(slot, t, value);
      if (trend) sink.trend(slot, t, trend);
      const matches = patterns.update(slot, value);
      for (let m = 0; m < matches; m++)
        sink.pattern(slot, t, templates[patterns.matchedTemplate[m]!]!.name, patterns.matchedDistance[m]!);
    }
  }

  snapshot(): SeriesAnalyticsSnapshot {
    return {
      ensembles: Array.from(this.ensembles, (e) => e?.snapshot() ?? null),
      trends: this.trends.snapshot(),
      patterns: this.patterns.snapshot(),
    };
  }
}
