/**
 * Per-series score calibration: a running high quantile of a series' own recent scores, and the
 * re-scaling of each new score against it. A score above the quantile (unusual for this series)
 * passes unchanged; one at or below it (the series' usual excitement) is damped. A series whose
 * detectors are always a bit excited thus stops alarming on its usual bursts, while a quiet series
 * (whose high quantile is near 0) keeps its scores, and a spike beyond anything recent keeps its
 * score everywhere.
 */

export interface CalibrationOptions {
  /**
   * The quantile of the series' own recent scores that is its normal excitement (e.g. 0.995): a score
   * above it is unusual for the series and passes unchanged; one at or below it is damped.
   */
  readonly quantile: number;
  /** The factor a score at or below the quantile is scaled by (0.5: the mean of two members loses one). */
  readonly damping: number;
  /** Horizon (samples) of the recent scores: older ones weigh `(1 - 1/horizon)^age`. */
  readonly horizon: number;
  /** Scores seen before the quantile is trusted (until then scores pass unchanged). */
  readonly warmup: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = {
  quantile: 0.995,
  damping: 0.5,
  horizon: 4000,
  warmup: 300,
};

/** Scores are binned into this many equal bins over [0, 1]. */
export const CALIBRATION_BINS = 32;

export interface CalibrationState {
  /** Decayed count of each bin, in units of the current weight (length `CALIBRATION_BINS`). */
  bins: number[];
  /** The weight the next score adds (grows as older ones decay; rescaled now and then). */
  weight: number;
  /** Scores seen. */
  count: number;
}

/**
 * A decayed histogram of scores in [0, 1] (32 bins, 256 bytes of counts): each score adds the current
 * weight to its bin, and the weight grows by `1 / (1 - 1/horizon)` a sample, which decays every older
 * score without touching the bins (they are rescaled when the weight gets large). A quantile is read
 * off by walking the bins and interpolating inside the one it falls in: O(bins), bounded memory, exact
 * restore. Scores are bounded, so a fixed grid needs none of a general sketch's machinery (P², t-digest);
 * unlike P² it forgets, so the quantile follows the series' recent behaviour.
 */
export class ScoreCalibrator {
  private readonly o: CalibrationOptions;
  private readonly growth: number;
  private readonly bins = new Float64Array(CALIBRATION_BINS);
  private weight = 1;
  private total = 0;
  private count = 0;

  constructor(options: Partial<CalibrationOptions> = {}) {
    this.o = { ...DEFAULT_CALIBRATION, ...options };
    this.growth = 1 / (1 - 1 / Math.max(2, this.o.horizon));
  }

  /** The calibrated score of `score` against the scores before it; then `score` joins them. */
  calibrate(score: number): number {
    const out = score > 0 && this.count >= this.o.warmup ? this.scale(score) : score;
    this.add(score);
    return out;
  }

  private scale(score: number): number {
    return score > this.quantile() ? score : score * this.o.damping;
  }

  /** The configured quantile of the recent scores (0 before any). */
  quantile(p = this.o.quantile): number {
    if (this.total <= 0) return 0;
    const target = p * this.total;
    let below = 0;
    for (let b = 0; b < CALIBRATION_BINS; b++) {
      const c = this.bins[b]!;
      if (below + c >= target && c > 0) return (b + (target - below) / c) / CALIBRATION_BINS;
      below += c;
    }
    return 1;
  }

  private add(score: number): void {
    const s = score > 0 ? Math.min(score, 1) : 0;
    const b = Math.min(CALIBRATION_BINS - 1, Math.floor(s * CALIBRATION_BINS));
    this.bins[b] = this.bins[b]! + this.weight;
    this.total += this.weight;
    this.count++;
    this.weight *= this.growth;
    if (this.weight > 1e100) {
      const k = 1 / this.weight;
      for (let i = 0; i < CALIBRATION_BINS; i++) this.bins[i] = this.bins[i]! * k;
      this.total *= k;
      this.weight = 1;
    }
  }

  snapshot(): CalibrationState {
    return { bins: Array.from(this.bins), weight: this.weight, count: this.count };
  }

  restore(state: CalibrationState): void {
    this.bins.fill(0);
    this.total = 0;
    for (let i = 0; i < CALIBRATION_BINS; i++) {
      const c = state.bins[i] ?? 0;
      this.bins[i] = c;
      this.total += c;
    }
    this.weight = state.weight;
    this.count = state.count;
  }
}
