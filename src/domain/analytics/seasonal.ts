import { fromB64, toB64 } from './columns.js';
import { type Detection, type Detector, zToScore } from './detector.js';
import { BlockStats, type BlockStatsState, type RollingStats } from './detectors.js';
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
  /** Window of the residuals' mean and spread… */
  readonly window: number;
  /** …kept as this many block sums (`BlockStats`: bounded state, exact for `window` blocks). */
  readonly windowBlocks: number;
  /** Residuals needed before scoring. */
  readonly warmup: number;
}

/** Values a new series' history holds before it first grows. */
const INITIAL_HISTORY = 64;

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
  windowBlocks: 20,
  warmup: 60,
};

export interface SeasonalState {
  /** The kept history, oldest slot first in ring order: base64 Float64 (older checkpoints)… */
  ring?: string;
  /** …or base64 Float32 of the values less `origin` (bounded state: 4 bytes a value). */
  ring32?: string;
  origin?: number | null;
  count: number;
  period: number;
  /** `BlockStats` (a `RollingStats` ring in older checkpoints). */
  residuals: BlockStatsState | ReturnType<RollingStats['snapshot']>;
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
  /**
   * The history, as Float32 offsets from the first value seen (`origin`): half the memory of doubles.
   * The value in hand is rounded the same way before it is compared, so an exact repeat still leaves a
   * residual of exactly 0; the rounding (2⁻²⁴ of the offset) is far below any spread that matters.
   */
  private ring: Float32Array;
  private origin = Number.NaN;
  private count = 0;
  /** The sample count at which the period is next looked for. */
  private nextEstimate: number;
  private period = 0;
  private residuals: BlockStats;
  private readonly samePhase: Float64Array;

  constructor(options: Partial<SeasonalOptions> = {}) {
    this.o = { ...DEFAULT_SEASONAL, ...options };
    if (this.o.maxPeriod * this.o.cycles >= this.o.history)
      throw new Error('seasonal: history must hold `cycles` periods of the longest period');
    this.ring = new Float32Array(Math.min(INITIAL_HISTORY, this.o.history));
    this.residuals = new BlockStats(this.o.window, this.o.windowBlocks);
    this.samePhase = new Float64Array(this.o.cycles);
    this.nextEstimate = this.o.firstEstimate;
  }

  /** The period in use (0: none found). */
  get currentPeriod(): number {
    return this.period;
  }

  /** The detection of the last `updateInto` (reused by `update`, which copies it out). */
  private readonly last = new Float64Array(4);

  update(raw: number): Detection | null {
    const out = this.last;
    if (this.updateInto(raw, out) === null) return null;
    return {
      score: out[0]!,
      sigmas: out[1]!,
      detector: this.name,
      expectedLow: out[2]!,
      expectedHigh: out[3]!,
    };
  }

  updateInto(raw: number, into: Float64Array): string | null {
    const { history, cycles } = this.o;
    if (Number.isNaN(this.origin)) this.origin = raw;
    const origin = this.origin;
    const value = Math.fround(raw - origin);
    let out: string | null = null;
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
        into[0] = zToScore(z);
        into[1] = Math.abs(z);
        into[2] = origin + expected + mean - 3 * std;
        into[3] = origin + expected + mean + 3 * std;
        out = this.name;
      }
      this.residuals.push(residual);
    }
    if (at >= this.ring.length) this.room(at + 1);
    this.ring[at] = value;
    this.count++;
    if (this.count === this.nextEstimate) {
      this.estimate();
      this.nextEstimate += this.o.every;
    }
    return out;
  }

  /**
   * Room for `n` values of history (at most `history`). The ring starts small and doubles until it
   * holds the whole history; before it is first full, sample i is at i, so growing moves nothing.
   */
  private room(n: number): void {
    const grown = new Float32Array(Math.min(this.o.history, Math.max(n, 2 * this.ring.length)));
    grown.set(this.ring);
    this.ring = grown;
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
      this.residuals = new BlockStats(this.o.window, this.o.windowBlocks);
    }
  }

  snapshot(): SeasonalState {
    const kept = this.ring.subarray(0, Math.min(this.count, this.o.history));
    return {
      ring32: toB64(kept),
      origin: Number.isNaN(this.origin) ? null : this.origin,
      count: this.count,
      period: this.period,
      residuals: this.residuals.snapshot(),
    };
  }

  restore(raw: unknown): void {
    const state = raw as SeasonalState;
    this.ring = new Float32Array(
      Math.max(Math.min(INITIAL_HISTORY, this.o.history), Math.min(state.count, this.o.history)),
    );
    if (state.ring32 !== undefined) {
      fromB64(state.ring32, this.ring);
      this.origin = state.origin ?? Number.NaN;
    } else {
      // An older checkpoint: doubles, re-based on the oldest kept value.
      const kept = Math.min(state.count, this.o.history);
      const doubles = new Float64Array(kept);
      fromB64(state.ring ?? '', doubles);
      this.origin = kept ? doubles[0]! : Number.NaN;
      for (let i = 0; i < kept; i++) this.ring[i] = Math.fround(doubles[i]! - (this.origin || 0));
    }
    this.count = state.count;
    const { firstEstimate, every } = this.o;
    this.nextEstimate =
      state.count < firstEstimate
        ? firstEstimate
        : firstEstimate + (Math.floor((state.count - firstEstimate) / every) + 1) * every;
    this.period = state.period;
    this.residuals = new BlockStats(this.o.window, this.o.windowBlocks);
    this.residuals.restore(state.residuals);
  }
}

export const seasonalDetector = (options: Partial<SeasonalOptions> = {}): Detector =>
  new SeasonalDetector(options);
