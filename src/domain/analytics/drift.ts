import type { Detection, Detector } from './detector.js';

export interface DriftOptions {
  /** Horizon (samples) of the long-run mean and spread the values are standardised against. */
  readonly baseline: number;
  /** Samples before the baseline is trusted. */
  readonly warmup: number;
  /** Standardised values are clipped to ± this, so that one spike cannot make a drift on its own. */
  readonly clip: number;
  /** Span (samples) of the recent mean of the standardised values: how slow a shift is looked for. */
  readonly window: number;
  /** Horizon (samples) of the recent mean's own long-run mean and spread. */
  readonly horizon: number;
  /** A drift: the recent mean this many of its own standard deviations from its long-run mean. */
  readonly sigmas: number;
  /** Only the first drift after this many samples without one is reported. */
  readonly calmSamples: number;
  /** The score of a reported drift. */
  readonly score: number;
}

/**
 * Defaults: the baseline over the z-score member's 6,400 samples; a recent mean over about 96 samples
 * (eight hours at 5-minute steps, two days at 30-minute ones); a 3-sigma departure of it; its long-run
 * spread over 2,000 samples (the transition detector's re-learning length); 500 calm samples (the
 * ensemble's excursion calm); reported at 0.75, between the level view's half (0.5) and a certain alarm.
 */
export const DEFAULT_DRIFT: DriftOptions = {
  baseline: 6400,
  warmup: 30,
  clip: 10,
  window: 96,
  horizon: 2000,
  sigmas: 3,
  calmSamples: 500,
  score: 0.75,
};

export interface DriftState {
  /** Exponentially weighted mean and variance of the values, and how many were seen. */
  mean: number;
  variance: number;
  count: number;
  /** Recent mean of the standardised values, its long-run mean and variance, and their count. */
  recent: number;
  recentMean: number;
  recentVariance: number;
  scored: number;
  /** Samples since the last drift (null: none yet). */
  sinceDrift: number | null;
}

/** Options with what is derived from them, shared by every series using them. */
interface Params extends DriftOptions {
  readonly floor: number;
  readonly floor2: number;
  readonly sigmas2: number;
  readonly inverseWindow: number;
  readonly inverseHorizon: number;
  readonly inverseBaseline: number;
}

function params(o: DriftOptions): Params {
  const floor = 1 / Math.sqrt(2 * o.window);
  return {
    ...o,
    floor,
    floor2: floor * floor,
    sigmas2: o.sigmas * o.sigmas,
    inverseWindow: 1 / o.window,
    inverseHorizon: 1 / o.horizon,
    inverseBaseline: 1 / o.baseline,
  };
}

const DEFAULT_PARAMS = params(DEFAULT_DRIFT);

// Slots of a detector's state: one Float64Array of 64 bytes, which V8 keeps beside the array object
// (separate number fields would each be boxed, a larger array stored elsewhere).
const MEAN = 0;
const VARIANCE = 1;
const COUNT = 2;
const RECENT = 3;
const RECENT_MEAN = 4;
const RECENT_VARIANCE = 5;
const SCORED = 6;
const SINCE_DRIFT = 7;

/**
 * Slow shifts with no new step: each value is standardised against a long-run (exponentially
 * weighted) mean and spread, and the recent mean of those standardised values (span `window`) is
 * compared with its own long-run mean and spread (span `horizon`; at least the spread it would have on
 * independent values, 1/√(2·window)). A departure of `sigmas` of them is a drift; the first one after
 * `calmSamples` samples without one scores `score`, every other sample 0. Testing the recent mean
 * rather than each sample finds a level that moves by a fraction of a standard deviation for a while
 * (no single sample is unusual, no step is new); measuring the recent mean against its own spread
 * makes the test fair on autocorrelated series; the calm rule keeps a wandering series to one report
 * per episode.
 * O(1) a sample, eight numbers of state in one typed array (the exponentially weighted steps start at weight 1/(n+1),
 * so the first estimates are unbiased).
 */
export class DriftDetector implements Detector {
  readonly name = 'drift';
  private readonly p: Params;
  private readonly s = new Float64Array(8);
  /** The baseline the last drift was standardised against (for its detection). */
  private lastMean = 0;
  private lastStd = 0;

  constructor(options: Partial<DriftOptions> = {}) {
    this.p =
      options === DEFAULT_DRIFT || Object.keys(options).length === 0
        ? DEFAULT_PARAMS
        : params({ ...DEFAULT_DRIFT, ...options });
    this.s[SINCE_DRIFT] = Number.POSITIVE_INFINITY;
  }

  update(value: number): Detection | null {
    const warm = this.s[COUNT]! >= this.p.warmup;
    const mean = this.s[MEAN]!;
    const std = Math.sqrt(this.s[VARIANCE]!) || 1e-9;
    const score = this.check(value);
    return warm ? this.build(score, mean, std) : null;
  }

  /**
   * `update` without building a detection: the score of the sample (0 while warming up). The
   * ensemble calls this on every sample and `detection` only when a drift is reported.
   */
  check(value: number): number {
    const p = this.p;
    const s = this.s;
    let score = 0;
    const mean = s[MEAN]!;
    const count = s[COUNT]!;
    if (count >= p.warmup) {
      const std = Math.sqrt(s[VARIANCE]!) || 1e-9;
      const z = Math.max(-p.clip, Math.min(p.clip, (value - mean) / std));
      const scored = s[SCORED]!;
      const n = scored + 1;
      let recent = s[RECENT]!;
      recent += (n < p.window ? 1 / n : p.inverseWindow) * (z - recent);
      s[RECENT] = recent;
      let recentMean = s[RECENT_MEAN]!;
      const recentVariance = s[RECENT_VARIANCE]!;
      if (scored >= p.window) {
        // |recent - long-run mean| ≥ sigmas · spread, in squares (no square root a sample).
        const away = recent - recentMean;
        if (away * away >= p.sigmas2 * Math.max(recentVariance, p.floor2)) {
          if (s[SINCE_DRIFT]! >= p.calmSamples && scored >= 2 * p.window) {
            score = p.score;
            this.lastMean = mean;
            this.lastStd = std;
          }
          s[SINCE_DRIFT] = 0;
        } else s[SINCE_DRIFT]!++;
      }
      const a = n < p.horizon ? 1 / n : p.inverseHorizon;
      const diff = recent - recentMean;
      recentMean += a * diff;
      s[RECENT_MEAN] = recentMean;
      s[RECENT_VARIANCE] = (1 - a) * (recentVariance + a * diff * diff);
      s[SCORED] = n;
    }
    const a = count + 1 < p.baseline ? 1 / (count + 1) : p.inverseBaseline;
    const diff = value - mean;
    s[MEAN] = mean + a * diff;
    s[VARIANCE] = (1 - a) * (s[VARIANCE]! + a * diff * diff);
    s[COUNT] = count + 1;
    return score;
  }

  /** The expected range of the last drift `check` reported, into `out[2..3]` (as `detection`). */
  rangeInto(out: Float64Array): void {
    const s = this.s;
    const std = this.lastStd;
    const centre = this.lastMean + s[RECENT_MEAN]! * std;
    const half = this.p.sigmas * Math.max(Math.sqrt(s[RECENT_VARIANCE]!), this.p.floor) * std;
    out[2] = centre - half;
    out[3] = centre + half;
  }

  /** The detection of the last drift `check` reported, with its score. */
  detection(score: number): Detection {
    return this.build(score, this.lastMean, this.lastStd);
  }

  /**
   * The expected range: where the recent mean may wander, in value units, around the baseline the
   * sample was standardised against.
   */
  private build(score: number, mean: number, std: number): Detection {
    const s = this.s;
    const centre = mean + s[RECENT_MEAN]! * std;
    const half = this.p.sigmas * Math.max(Math.sqrt(s[RECENT_VARIANCE]!), this.p.floor) * std;
    return { score, detector: this.name, expectedLow: centre - half, expectedHigh: centre + half };
  }

  snapshot(): DriftState {
    const s = this.s;
    return {
      mean: s[MEAN]!,
      variance: s[VARIANCE]!,
      count: s[COUNT]!,
      recent: s[RECENT]!,
      recentMean: s[RECENT_MEAN]!,
      recentVariance: s[RECENT_VARIANCE]!,
      scored: s[SCORED]!,
      sinceDrift: Number.isFinite(s[SINCE_DRIFT]!) ? s[SINCE_DRIFT]! : null,
    };
  }

  restore(raw: unknown): void {
    const state = raw as DriftState;
    const s = this.s;
    s[MEAN] = state.mean;
    s[VARIANCE] = state.variance;
    s[COUNT] = state.count;
    s[RECENT] = state.recent;
    s[RECENT_MEAN] = state.recentMean;
    s[RECENT_VARIANCE] = state.recentVariance;
    s[SCORED] = state.scored;
    s[SINCE_DRIFT] = state.sinceDrift ?? Number.POSITIVE_INFINITY;
  }
}

export const driftDetector = (options: Partial<DriftOptions> = {}): Detector => new DriftDetector(options);
