import { fromB64, toB64 } from './columns.js';
import { type Detection, type Detector, zToScore } from './detector.js';
import { RollingStats } from './detectors.js';
import { detectSeasonality } from './patterns.js';

export interface SeasonalOptions {
  /** Samples kept for finding the period (and for looking back whole periods). */
  readonly history: number;
  /** The period is first looked for after this many samples… */
  readonly firstEstimate: number;
  /** …and again every this many samples (on the last `history` samples). */
  readonly every: number;
  readonly minPeriod: number;
  /** Longest period looked for (at most a third of the history, so that it repeats). */
  readonly maxPeriod: number;
  /**
   * The period is looked for on block means of this many samples (the autocorrelation costs
   * history × maxPeriod, so 4 makes it 16 times cheaper), then refined to the best full-resolution lag
   * within one block of it.
   */
  readonly decimate: number;
  /** Least autocorrelation at the period for the series to count as seasonal. */
  readonly minStrength: number;
  /** Previous periods the value is compared with (the expected value is their median). */
  readonly cycles: number;
  /** Window of the residuals' mean and spread. */
  readonly window: number;
  /** Residuals needed before scoring. */
  readonly warmup: number;
}

export const DEFAULT_SEASONAL: SeasonalOptions = {
  history: 1024,
  firstEstimate: 1024,
  every: 4096,
  decimate: 4,
  minPeriod: 8,
  maxPeriod: 341,
  minStrength: 0.3,
  cycles: 3,
  window: 1000,
  warmup: 60,
};

export interface SeasonalState {
  ring: string;
  count: number;
  period: number;
  residuals: ReturnType<RollingStats['snapshot']>;
}

/**
 * Seasonal detector: each value is compared with the same phase of the previous `cycles` periods
 * (their median is the expected value, so one earlier anomaly does not echo a period later), and the residual is scored against the residuals' rolling mean
 * and spread. The period comes from the pattern step's autocorrelation (`detectSeasonality`), found
 * after `firstEstimate` samples and re-estimated every `every` samples; a change of period restarts
 * the residual statistics. Silent (null) while no period is known: a series without seasonality is
 * left to the other detectors.
 */
export class SeasonalDetector implements Detector {
  readonly name = 'seasonal';
  private readonly o: SeasonalOptions;
  private readonly ring: Float64Array;
  private count = 0;
  /** The sample count at which the period is next looked for. */
  private nextEstimate: number;
  private period = 0;
  private residuals: RollingStats;
  private readonly samePhase: Float64Array;

  constructor(options: Partial<SeasonalOptions> = {}) {
    this.o = { ...DEFAULT_SEASONAL, ...options };
    if (this.o.maxPeriod * this.o.cycles >= this.o.history)
      throw new Error('seasonal: history must hold `cycles` periods of the longest period');
    this.ring = new Float64Array(this.o.history);
    this.residuals = new RollingStats(this.o.window);
    this.samePhase = new Float64Array(this.o.cycles);
    this.nextEstimate = this.o.firstEstimate;
  }

  /** The period in use (0: none found). */
  get currentPeriod(): number {
    return this.period;
  }

  update(value: number): Detection | null {
    const { history, cycles } = this.o;
    let out: Detection | null = null;
    const p = this.period;
    const at = this.count % history;
    if (p > 0 && this.count >= cycles * p) {
      const same = this.samePhase;
      for (let c = 1; c <= cycles; c++) {
        // Insertion sort of the few same-phase values (no allocation). c·p < history.
        const back = at - c * p;
        const v = this.ring[back < 0 ? back + history : back]!;
        let j = c - 1;
        for (; j > 0 && same[j - 1]! > v; j--) same[j] = same[j - 1]!;
        same[j] = v;
      }
      const expected = cycles % 2 ? same[cycles >> 1]! : (same[cycles / 2 - 1]! + same[cycles / 2]!) / 2;
      const residual = value - expected;
      if (this.residuals.length >= this.o.warmup) {
        const mean = this.residuals.mean;
        const std = this.residuals.std || 1e-9;
        const z = (residual - mean) / std;
        out = {
          score: zToScore(z),
          sigmas: Math.abs(z),
          detector: this.name,
          expectedLow: expected + mean - 3 * std,
          expectedHigh: expected + mean + 3 * std,
        };
      }
      this.residuals.push(residual);
    }
    this.ring[at] = value;
    this.count++;
    if (this.count === this.nextEstimate) {
      this.estimate();
      this.nextEstimate += this.o.every;
    }
    return out;
  }

  /** Re-estimates the period on the kept history (allocates; runs once every `every` samples). */
  private estimate(): void {
    const { history, decimate, cycles, minPeriod } = this.o;
    const n = Math.min(this.count, history);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = this.ring[(this.count - n + i) % history]!;
    const maxPeriod = Math.min(this.o.maxPeriod, Math.floor(n / cycles));
    const blocks: number[] = [];
    for (let b = 0; (b + 1) * decimate <= n; b++) {
      let sum = 0;
      for (let i = b * decimate; i < (b + 1) * decimate; i++) sum += values[i]!;
      blocks.push(sum / decimate);
    }
    const coarse = detectSeasonality(
      blocks,
      Math.max(2, Math.ceil(minPeriod / decimate)),
      Math.floor(maxPeriod / decimate),
      this.o.minStrength,
    );
    let period = 0;
    if (coarse) {
      // Refinement: the lag with the highest autocorrelation within one block of the coarse period
      // (the same biased estimator as `autocorrelation`, at a few lags only).
      let mean = 0;
      for (const v of values) mean += v;
      mean /= n;
      let best = Number.NEGATIVE_INFINITY;
      const centre = coarse.period * decimate;
      for (
        let lag = Math.max(minPeriod, centre - decimate + 1);
        lag <= Math.min(maxPeriod, centre + decimate - 1);
        lag++
      ) {
        let sum = 0;
        for (let i = 0; i + lag < n; i++) sum += (values[i]! - mean) * (values[i + lag]! - mean);
        if (sum > best) {
          best = sum;
          period = lag;
        }
      }
    }
    if (period !== this.period) {
      this.period = period;
      this.residuals = new RollingStats(this.o.window);
    }
  }

  snapshot(): SeasonalState {
    const kept = this.ring.subarray(0, Math.min(this.count, this.o.history));
    return {
      ring: toB64(kept),
      count: this.count,
      period: this.period,
      residuals: this.residuals.snapshot(),
    };
  }

  restore(raw: unknown): void {
    const state = raw as SeasonalState;
    fromB64(state.ring, this.ring);
    this.count = state.count;
    const { firstEstimate, every } = this.o;
    this.nextEstimate =
      state.count < firstEstimate
        ? firstEstimate
        : firstEstimate + (Math.floor((state.count - firstEstimate) / every) + 1) * every;
    this.period = state.period;
    this.residuals = new RollingStats(this.o.window);
    this.residuals.restore(state.residuals);
  }
}

export const seasonalDetector = (options: Partial<SeasonalOptions> = {}): Detector =>
  new SeasonalDetector(options);
