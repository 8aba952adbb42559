import { sampleCorrelation } from 'simple-statistics';
import { studentTCdf, studentTCritical } from './statistics.js';

export interface LinearTrend {
  readonly slope: number;
  readonly intercept: number;
  /** 95 % confidence interval of the slope. */
  readonly slopeLow: number;
  readonly slopeHigh: number;
  /** Two-sided p-value of "the slope is zero". */
  readonly pValue: number;
  readonly n: number;
}

/** Least-squares line through (x, y) with the slope's confidence interval and significance test. */
export function linearTrend(xs: ArrayLike<number>, ys: ArrayLike<number>): LinearTrend {
  const n = xs.length;
  if (n < 3 || ys.length !== n) throw new Error('a trend needs at least 3 points, as many x as y');
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (intercept + slope * xs[i]!)) ** 2;
  const df = n - 2;
  const se = sxx === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(sse / df / sxx);
  const t = se === 0 ? (slope === 0 ? 0 : Number.POSITIVE_INFINITY) : slope / se;
  const pValue = Number.isFinite(t) ? 2 * (1 - studentTCdf(Math.abs(t), df)) : slope === 0 ? 1 : 0;
  const margin = studentTCritical(0.95, df) * se;
  return { slope, intercept, slopeLow: slope - margin, slopeHigh: slope + margin, pValue, n };
}

/** Pearson correlation (simple-statistics). NaN when either side is constant. */
export function pearson(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2)
    throw new Error('correlation needs two series of the same length ≥ 2');
  const r = sampleCorrelation([...a], [...b]);
  return Number.isFinite(r) ? r : Number.NaN;
}

/** Ranks with ties given their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = rank;
    i = j + 1;
  }
  return out;
}

/** Spearman rank correlation: Pearson over ranks. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  return pearson(ranks(a), ranks(b));
}

export type Direction = 'rising' | 'falling' | 'flat';
export type Strength = 'weak' | 'moderate' | 'strong';

export interface TrendState {
  readonly direction: Direction;
  readonly strength: Strength;
  readonly slope: number;
  readonly slopeLow: number;
  readonly slopeHigh: number;
  readonly pValue: number;
  /** Change of the slope since the previous evaluation (per unit of x, per evaluation). */
  readonly momentum: number;
}

export interface TrendTrackerOptions {
  /** Samples in the window the trend is fitted over. */
  readonly window: number;
  /** Fit every this many samples. */
  readonly every: number;
  /** Significance level below which a slope is a trend. */
  readonly alpha: number;
}

/**
 * A streaming trend over one series: fits a line over the last `window` samples every `every`
 * samples, and reports a change only when the direction or the strength changes — not on every sample.
 * Strength is the total change across the window relative to the residual spread: < 2 weak, < 5
 * moderate, else strong.
 */
export function createTrendTracker(options: TrendTrackerOptions = { window: 60, every: 10, alpha: 0.01 }) {
  const xs = new Float64Array(options.window);
  const ys = new Float64Array(options.window);
  let count = 0;
  let seen = 0;
  let current: TrendState | null = null;
  return {
    /** Takes one sample; returns the new trend state when it changed, else null. */
    update(x: number, y: number): TrendState | null {
      const at = count % options.window;
      xs[at] = x;
      ys[at] = y;
      count++;
      seen++;
      if (count < options.window || seen % options.every !== 0) return null;
      const fit = linearTrend(xs, ys);
      let sse = 0;
      let minX = Number.POSITIVE_INFINITY;
      let maxX = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < options.window; i++) {
        sse += (ys[i]! - (fit.intercept + fit.slope * xs[i]!)) ** 2;
        minX = Math.min(minX, xs[i]!);
        maxX = Math.max(maxX, xs[i]!);
      }
      const spread = Math.sqrt(sse / (options.window - 2)) || 1e-12;
      const ratio = Math.abs(fit.slope * (maxX - minX)) / spread;
      const direction: Direction =
        fit.pValue >= options.alpha ? 'flat' : fit.slope > 0 ? 'rising' : 'falling';
      const strength: Strength = ratio < 2 ? 'weak' : ratio < 5 ? 'moderate' : 'strong';
      const next: TrendState = {
        direction,
        strength: direction === 'flat' ? 'weak' : strength,
        slope: fit.slope,
        slopeLow: fit.slopeLow,
        slopeHigh: fit.slopeHigh,
        pValue: fit.pValue,
        momentum: current ? fit.slope - current.slope : 0,
      };
      const changed = !current || current.direction !== next.direction || current.strength !== next.strength;
      current = next;
      return changed ? next : null;
    },
    get state(): TrendState | null {
      return current;
    },
    snapshot() {
      return { xs: Array.from(xs), ys: Array.from(ys), count, seen, current };
    },
    restore(state: { xs: number[]; ys: number[]; count: number; seen: number; current: TrendState | null }) {
      xs.set(state.xs);
      ys.set(state.ys);
      count = state.count;
      seen = state.seen;
      current = state.current;
    },
  };
}
