import { sampleCorrelation } from 'simple-statistics';
import { fromB64, grown, toB64 } from './columns.js';
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

const DIRECTIONS: readonly Direction[] = ['flat', 'rising', 'falling'];
const STRENGTHS: readonly Strength[] = ['weak', 'moderate', 'strong'];

export interface TrendBankSnapshot {
  readonly slots: number;
  /** Each slot's ring of the last `window` (x, y), base64 Float64. */
  readonly xs: string;
  readonly ys: string;
  /** Samples seen per slot. */
  readonly count: string;
  /** The current state per slot (has, direction, strength as codes; the numbers as Float64). */
  readonly has: string;
  readonly direction: string;
  readonly strength: string;
  readonly slope: string;
  readonly slopeLow: string;
  readonly slopeHigh: string;
  readonly pValue: string;
  readonly momentum: string;
}

/**
 * Streaming trends over many series at once, one dense slot per series, state in typed arrays: for
 * each slot, a line is fitted over its last `window` samples every `every` samples, and a change is
 * reported only when the direction or the strength changes — not on every sample. Strength is the
 * total change across the window relative to the residual spread: < 2 weak, < 5 moderate, else strong.
 *
 * The fit is the same arithmetic as `linearTrend` (same order of operations, so the same bits), but
 * the slope's p-value is only computed when it decides the direction (|t| within a hair of the
 * critical value) or when the state is read: the Student-t CDF is the costliest step of a fit.
 */
export function createTrendBank(options: TrendTrackerOptions = { window: 60, every: 10, alpha: 0.01 }) {
  const w = options.window;
  const df = w - 2;
  const t95 = studentTCritical(0.95, df);
  const tAlpha = studentTCritical(1 - options.alpha, df);
  let xs = new Float64Array(0);
  let ys = new Float64Array(0);
  let count = new Float64Array(0);
  /** count mod window and count mod every, kept apart: a float modulo per sample is slow. */
  let next = new Int32Array(0);
  let phase = new Int32Array(0);
  let has = new Uint8Array(0);
  let direction = new Uint8Array(0);
  let strength = new Uint8Array(0);
  let slope = new Float64Array(0);
  let slopeLow = new Float64Array(0);
  let slopeHigh = new Float64Array(0);
  /** NaN: not computed yet, see `tStat`. */
  let pValue = new Float64Array(0);
  let tStat = new Float64Array(0);
  let momentum = new Float64Array(0);
  let slots = 0;

  function ensure(n: number): void {
    if (n <= slots) return;
    slots = n;
    xs = grown(xs, n * w, Float64Array);
    ys = grown(ys, n * w, Float64Array);
    count = grown(count, n, Float64Array);
    next = grown(next, n, Int32Array);
    phase = grown(phase, n, Int32Array);
    has = grown(has, n, Uint8Array);
    direction = grown(direction, n, Uint8Array);
    strength = grown(strength, n, Uint8Array);
    slope = grown(slope, n, Float64Array);
    slopeLow = grown(slopeLow, n, Float64Array);
    slopeHigh = grown(slopeHigh, n, Float64Array);
    pValue = grown(pValue, n, Float64Array);
    tStat = grown(tStat, n, Float64Array);
    momentum = grown(momentum, n, Float64Array);
  }

  const pOf = (t: number) => 2 * (1 - studentTCdf(Math.abs(t), df));

  function stateOf(slot: number): TrendState | null {
    if (slot >= slots || !has[slot]) return null;
    if (Number.isNaN(pValue[slot]!)) pValue[slot] = pOf(tStat[slot]!);
    return {
      direction: DIRECTIONS[direction[slot]!]!,
      strength: STRENGTHS[strength[slot]!]!,
      slope: slope[slot]!,
      slopeLow: slopeLow[slot]!,
      slopeHigh: slopeHigh[slot]!,
      pValue: pValue[slot]!,
      momentum: momentum[slot]!,
    };
  }

  /** Fits the line over one slot's ring and updates its state; true when direction or strength changed. */
  function fitSlot(slot: number): boolean {
    const o = slot * w;
    let mx = 0;
    let my = 0;
    for (let i = 0; i < w; i++) {
      mx += xs[o + i]!;
      my += ys[o + i]!;
    }
    mx /= w;
    my /= w;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < w; i++) {
      sxx += (xs[o + i]! - mx) ** 2;
      sxy += (xs[o + i]! - mx) * (ys[o + i]! - my);
    }
    const b = sxx === 0 ? 0 : sxy / sxx;
    const a = my - b * mx;
    let sse = 0;
    let minX = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < w; i++) {
      const x = xs[o + i]!;
      sse += (ys[o + i]! - (a + b * x)) ** 2;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
    }
    const se = sxx === 0 ? Number.POSITIVE_INFINITY : Math.sqrt(sse / df / sxx);
    const t = se === 0 ? (b === 0 ? 0 : Number.POSITIVE_INFINITY) : b / se;
    // p < alpha exactly when |t| > the critical value; the CDF only settles the ties.
    let p = Number.NaN;
    let significant: boolean;
    if (!Number.isFinite(t)) {
      p = b === 0 ? 1 : 0;
      significant = p < options.alpha;
    } else {
      const at = Math.abs(t);
      if (at > tAlpha * (1 + 1e-9)) significant = true;
      else if (at < tAlpha * (1 - 1e-9)) significant = false;
      else {
        p = pOf(t);
        significant = p < options.alpha;
      }
    }
    const margin = t95 * se;
    const spread = Math.sqrt(sse / df) || 1e-12;
    const ratio = Math.abs(b * (maxX - minX)) / spread;
    const dir = significant ? (b > 0 ? 1 : 2) : 0;
    const str = dir === 0 ? 0 : ratio < 2 ? 0 : ratio < 5 ? 1 : 2;
    const changed = !has[slot] || direction[slot] !== dir || strength[slot] !== str;
    momentum[slot] = has[slot] ? b - slope[slot]! : 0;
    has[slot] = 1;
    direction[slot] = dir;
    strength[slot] = str;
    slope[slot] = b;
    slopeLow[slot] = b - margin;
    slopeHigh[slot] = b + margin;
    pValue[slot] = p;
    tStat[slot] = t;
    return changed;
  }

  return {
    options,
    /** Takes one sample of a slot; returns the slot's new trend state when it changed, else null. */
    update(slot: number, x: number, y: number): TrendState | null {
      if (slot >= slots) ensure(slot + 1);
      const n = count[slot]! + 1;
      const p = next[slot]!;
      const at = slot * w + p;
      xs[at] = x;
      ys[at] = y;
      count[slot] = n;
      next[slot] = p + 1 === w ? 0 : p + 1;
      const f = phase[slot]! + 1;
      phase[slot] = f === options.every ? 0 : f;
      if (f !== options.every || n < w) return null;
      return fitSlot(slot) ? stateOf(slot) : null;
    },
    state: stateOf,
    snapshot(): TrendBankSnapshot {
      for (let s = 0; s < slots; s++) if (has[s] && Number.isNaN(pValue[s]!)) pValue[s] = pOf(tStat[s]!);
      return {
        slots,
        xs: toB64(xs, slots * w),
        ys: toB64(ys, slots * w),
        count: toB64(count, slots),
        has: toB64(has, slots),
        direction: toB64(direction, slots),
        strength: toB64(strength, slots),
        slope: toB64(slope, slots),
        slopeLow: toB64(slopeLow, slots),
        slopeHigh: toB64(slopeHigh, slots),
        pValue: toB64(pValue, slots),
        momentum: toB64(momentum, slots),
      };
    },
    restore(state: TrendBankSnapshot): void {
      ensure(state.slots);
      fromB64(state.xs, xs);
      fromB64(state.ys, ys);
      fromB64(state.count, count);
      for (let s = 0; s < state.slots; s++) {
        next[s] = count[s]! % w;
        phase[s] = count[s]! % options.every;
      }
      fromB64(state.has, has);
      fromB64(state.direction, direction);
      fromB64(state.strength, strength);
      fromB64(state.slope, slope);
      fromB64(state.slopeLow, slopeLow);
      fromB64(state.slopeHigh, slopeHigh);
      fromB64(state.pValue, pValue);
      fromB64(state.momentum, momentum);
    },
  };
}

/** A streaming trend over one series: a trend bank of one slot (see `createTrendBank`). */
export function createTrendTracker(options: TrendTrackerOptions = { window: 60, every: 10, alpha: 0.01 }) {
  const bank = createTrendBank(options);
  return {
    /** Takes one sample; returns the new trend state when it changed, else null. */
    update: (x: number, y: number): TrendState | null => bank.update(0, x, y),
    get state(): TrendState | null {
      return bank.state(0);
    },
    snapshot: (): TrendBankSnapshot => bank.snapshot(),
    restore: (state: TrendBankSnapshot): void => bank.restore(state),
  };
}
