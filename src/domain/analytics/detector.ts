/** What a detector says about one sample. */
export interface Detection {
  /** Calibrated anomaly score in [0, 1]. */
  readonly score: number;
  readonly detector: string;
  /** The range the detector expected the value in. */
  readonly expectedLow: number;
  readonly expectedHigh: number;
  /**
   * For detectors that score a standardised deviation: its size, uncapped (`score` is
   * `zToScore(sigmas)`, which saturates at `FULL_SCALE_SIGMAS`).
   */
  readonly sigmas?: number;
}

/** A streaming detector over one series: it sees each sample once, in order, and never looks ahead. */
export interface Detector {
  readonly name: string;
  /** Null while warming up (no baseline yet). */
  update(value: number): Detection | null;
  /**
   * `update` without building a `Detection` (the batch path): writes score, sigmas (NaN when the
   * detector scores no standardised deviation), expected low and high into `out[0..3]` and returns the
   * detecting detector's name, or null while warming up (`out` is then left as it was). Optional:
   * `updateInto` (below) falls back on `update`.
   */
  updateInto?(value: number, out: Float64Array): string | null;
  /** Everything needed to continue exactly where it stands (JSON). */
  snapshot(): unknown;
  restore(state: unknown): void;
}

/** erf, Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7). Written here: a one-liner no library is needed for. */
export function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/**
 * Calibration of a standardised deviation to [0, 1]: the "surprise" of |z| under a Gaussian, in
 * decades of tail probability (≈ z²/2 / ln 10), divided by `SURPRISE_SCALE` and capped at 1. Unlike
 * the tail mass itself, which is ≈ 1 for every |z| > 4, it keeps large deviations apart.
 */
export const SURPRISE_SCALE = 8;
export const zToScore = (z: number) => Math.min(1, (z * z) / 2 / Math.LN10 / SURPRISE_SCALE);
/** The deviation at which `zToScore` reaches 1 (≈ 6.07). */
export const FULL_SCALE_SIGMAS = Math.sqrt(2 * Math.LN10 * SURPRISE_SCALE);

/** Slots of a detection written by `Detector.updateInto`. */
export const OUT_SCORE = 0;
export const OUT_SIGMAS = 1;
export const OUT_LOW = 2;
export const OUT_HIGH = 3;

/** A detection into `out` (see `Detector.updateInto`), through `update` when the detector has no batch path. */
export function updateInto(detector: Detector, value: number, out: Float64Array): string | null {
  if (detector.updateInto) return detector.updateInto(value, out);
  const d = detector.update(value);
  if (!d) return null;
  out[OUT_SCORE] = d.score;
  out[OUT_SIGMAS] = d.sigmas ?? Number.NaN;
  out[OUT_LOW] = d.expectedLow;
  out[OUT_HIGH] = d.expectedHigh;
  return d.detector;
}
