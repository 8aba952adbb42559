import { fromB64, toB64 } from './columns.js';
import { type Detection, type Detector, zToScore } from './detector.js';

/** Rolling mean and variance over the last `size` values (ring buffer, O(1) per sample). */
export class RollingStats {
  private readonly ring: Float64Array;
  private next = 0;
  private count = 0;
  private sum = 0;
  private sumSq = 0;
  constructor(readonly size: number) {
    this.ring = new Float64Array(size);
  }
  /**
   * Values are kept relative to the first one seen: sums of squares of large, steady values (1e9 ± 1)
   * would otherwise lose the spread to rounding.
   */
  private origin: number | null = null;
  push(raw: number): void {
    this.origin ??= raw;
    const value = raw - this.origin;
    if (this.count === this.size) {
      const old = this.ring[this.next]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else this.count++;
    this.ring[this.next] = value;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
    this.sum += value;
    this.sumSq += value * value;
  }
  get length(): number {
    return this.count;
  }
  get mean(): number {
    return this.count ? (this.origin ?? 0) + this.sum / this.count : 0;
  }
  get std(): number {
    if (this.count < 2) return 0;
    const variance = (this.sumSq - (this.sum * this.sum) / this.count) / (this.count - 1);
    return variance > 0 ? Math.sqrt(variance) : 0;
  }
  /** The values in the window (in ring order, not time order). */
  values(): Float64Array {
    const ring = this.count === this.size ? this.ring : this.ring.subarray(0, this.count);
    const origin = this.origin ?? 0;
    return origin === 0 ? ring : ring.map((v) => v + origin);
  }
  snapshot(): {
    ring: string;
    next: number;
    count: number;
    sum: number;
    sumSq: number;
    origin: number | null;
  } {
    const ring = this.ring.subarray(0, this.count);
    return {
      origin: this.origin,
      ring: toB64(ring),
      next: this.next,
      count: this.count,
      sum: this.sum,
      sumSq: this.sumSq,
    };
  }
  restore(state: {
    ring: string;
    next: number;
    count: number;
    sum: number;
    sumSq: number;
    origin?: number | null;
  }): void {
    this.origin = state.origin ?? null;
    fromB64(state.ring, this.ring);
    this.next = state.next;
    this.count = state.count;
    this.sum = state.sum;
    this.sumSq = state.sumSq;
  }
}

type StatsState = Parameters<RollingStats['restore']>[0];

/** Rolling z-score against the previous `window` values. */
export function zScoreDetector(window = 288, warmup = 30): Detector {
  const stats = new RollingStats(window);
  return {
    name: 'zscore',
    update(value) {
      let out: Detection | null = null;
      if (stats.length >= warmup) {
        const std = stats.std || 1e-9;
        const z = (value - stats.mean) / std;
        out = {
          score: zToScore(z),
          sigmas: Math.abs(z),
          detector: 'zscore',
          expectedLow: stats.mean - 3 * std,
          expectedHigh: stats.mean + 3 * std,
        };
      }
      stats.push(value);
      return out;
    },
    snapshot: () => stats.snapshot(),
    restore: (state) => stats.restore(state as StatsState),
  };
}

/** Robust z-score: distance from the rolling median in units of the median absolute deviation. */
export function madDetector(window = 288, warmup = 30): Detector {
  const stats = new RollingStats(window);
  const sorted: number[] = [];
  return {
    name: 'mad',
    update(value) {
      let out: Detection | null = null;
      if (stats.length >= warmup) {
        sorted.length = 0;
        for (const v of stats.values()) sorted.push(v);
        sorted.sort((a, b) => a - b);
        const median = sorted[sorted.length >> 1]!;
        for (let i = 0; i < sorted.length; i++) sorted[i] = Math.abs(sorted[i]! - median);
        sorted.sort((a, b) => a - b);
        const mad = 1.4826 * sorted[sorted.length >> 1]! || stats.std || 1e-9;
        const z = (value - median) / mad;
        out = {
          score: zToScore(z / 1.5),
          sigmas: Math.abs(z / 1.5),
          detector: 'mad',
          expectedLow: median - 4.5 * mad,
          expectedHigh: median + 4.5 * mad,
        };
      }
      stats.push(value);
      return out;
    },
    snapshot: () => stats.snapshot(),
    restore: (state) => stats.restore(state as StatsState),
  };
}

/** Adaptive threshold: EWMA mean and variance that follow a shifting baseline. */
export function ewmaDetector(alpha = 0.05, warmup = 30): Detector {
  let mean = 0;
  let variance = 0;
  let n = 0;
  return {
    name: 'ewma',
    update(value) {
      let out: Detection | null = null;
      const std = Math.sqrt(variance);
      if (n >= warmup) {
        const z = (value - mean) / (std || 1e-9);
        out = {
          score: zToScore(z),
          sigmas: Math.abs(z),
          detector: 'ewma',
          expectedLow: mean - 3 * std,
          expectedHigh: mean + 3 * std,
        };
      }
      ({ mean, variance } = ewmaStep(mean, variance, n, value, alpha));
      n++;
      return out;
    },
    snapshot: () => ({ mean, variance, n }),
    restore(state) {
      ({ mean, variance, n } = state as { mean: number; variance: number; n: number });
    },
  };
}

/**
 * One step of an exponentially weighted mean and variance. Early on the weight is 1/(n+1), a plain
 * running mean and variance, so the first estimates are not biased towards zero.
 */
export function ewmaStep(
  mean: number,
  variance: number,
  n: number,
  value: number,
  alpha: number,
): { mean: number; variance: number } {
  const a = Math.max(alpha, 1 / (n + 1));
  const diff = value - mean;
  const nextMean = mean + a * diff;
  return { mean: nextMean, variance: (1 - a) * (variance + a * diff * diff) };
}

/**
 * Two-sided CUSUM on standardised values (against a slow EWMA baseline): it accumulates small,
 * persistent shifts that single-sample detectors miss, and resets after it signals.
 */
export function cusumDetector(drift = 0.5, threshold = 8, alpha = 0.01, warmup = 60): Detector {
  let mean = 0;
  let variance = 0;
  let n = 0;
  let high = 0;
  let low = 0;
  return {
    name: 'cusum',
    update(value) {
      let out: Detection | null = null;
      const std = Math.sqrt(variance) || 1e-9;
      if (n >= warmup) {
        const z = (value - mean) / std;
        high = Math.max(0, high + z - drift);
        low = Math.max(0, low - z - drift);
        const s = Math.max(high, low);
        // Graded below the decision interval, 1 when it is crossed (a change point).
        out = {
          score: s >= threshold ? 1 : (0.8 * s) / threshold,
          detector: 'cusum',
          expectedLow: mean - 3 * std,
          expectedHigh: mean + 3 * std,
        };
        if (s >= threshold) {
          high = 0;
          low = 0;
          mean = value; // re-baseline after a change point
        }
      }
      ({ mean, variance } = ewmaStep(mean, variance, n, value, alpha));
      n++;
      return out;
    },
    snapshot: () => ({ mean, variance, n, high, low }),
    restore(state) {
      ({ mean, variance, n, high, low } = state as {
        mean: number;
        variance: number;
        n: number;
        high: number;
        low: number;
      });
    },
  };
}
