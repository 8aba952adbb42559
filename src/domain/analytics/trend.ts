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
  /** Each slot's ring of its last `window` (x, y) pairs, base64 Float64. */
  readonly xy: string;
  /** Each slot's record (see the field offsets in `createTrendBank`), base64 Float64. */
  readonly state: string;
}

// A slot's record, side by side in one Float64Array: one or two cache lines a slot, not one per field.
const COUNT = 0;
/** count mod window and count mod every, kept apart: a float modulo per sample is slow. */
const NEXT = 1;
const PHASE = 2;
const HAS = 3;
const DIRECTION = 4;
const STRENGTH = 5;
const SLOPE = 6;
const SLOPE_LOW = 7;
const SLOPE_HIGH = 8;
/** NaN: not computed yet (see T_STAT). */
const P_VALUE = 9;
const T_STAT = 10;
const MOMENTUM = 11;
const FIELDS = 12;

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
  /** Per slot: `w` (x, y) pairs. */
  let xy = new Float64Array(0);
  let st = new Float64Array(0);
  let slots = 0;

  function ensure(n: number): void {
    if (n <= slots) return;
    slots = n;
    xy = grown(xy, n * w * 2, Float64Array);
    st = grown(st, n * FIELDS, Float64Array);
  }

  const pOf = (t: number) => 2 * (1 - studentTCdf(Math.abs(t), df));

  function stateOf(slot: number): TrendState | null {
    const f = slot * FIELDS;
    if (slot >= slots || !st[f + HAS]) return null;
    if (Number.isNaN(st[f + P_VALUE]!)) st[f + P_VALUE] = pOf(st[f + T_STAT]!);
    return {
      direction: DIRECTIONS[st[f + DIRECTION]!]!,
      strength: STRENGTHS[st[f + STRENGTH]!]!,
      slope: st[f + SLOPE]!,
      slopeLow: st[f + SLOPE_LOW]!,
      slopeHigh: st[f + SLOPE_HIGH]!,
      pValue: st[f + P_VALUE]!,
      momentum: st[f + MOMENTUM]!,
    };
  }

  /** Fits the line over one slot's ring and updates its state; true when direction or strength changed. */
  function fitSlot(slot: number): boolean {
    const o = slot * w * 2;
    let mx = 0;
    let my = 0;
    for (let i = 0; i < w; i++) {
      mx += xy[o + 2 * i]!;
      my += xy[o + 2 * i + 1]!;
    }
    mx /= w;
    my /= w;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < w; i++) {
      sxx += (xy[o + 2 * i]! - mx) ** 2;
      sxy += (xy[o + 2 * i]! - mx) * (xy[o + 2 * i + 1]! - my);
    }
    const b = sxx === 0 ? 0 : sxy / sxx;
    const a = my - b * mx;
    let sse = 0;
    let minX = Number.POSITIVE_INFINITY;
    let maxX = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < w; i++) {
      const x = xy[o + 2 * i]!;
      sse += (xy[o + 2 * i + 1]! - (a + b * x)) ** 2;
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
    const f = slot * FIELDS;
    const had = st[f + HAS] === 1;
    const changed = !had || st[f + DIRECTION] !== dir || st[f + STRENGTH] !== str;
    st[f + MOMENTUM] = had ? b - st[f + SLOPE]! : 0;
    st[f + HAS] = 1;
    st[f + DIRECTION] = dir;
    st[f + STRENGTH] = str;
    st[f + SLOPE] = b;
    st[f + SLOPE_LOW] = b - margin;
    st[f + SLOPE_HIGH] = b + margin;
    st[f + P_VALUE] = p;
    st[f + T_STAT] = t;
    return changed;
  }

  return {
    options,
    /** Takes one sample of a slot; returns the slot's new trend state when it changed, else null. */
    update(slot: number, x: number, y: number): TrendState | null {
      if (slot >= slots) ensure(slot + 1);
      const f = slot * FIELDS;
      const n = st[f + COUNT]! + 1;
      const p = st[f + NEXT]!;
      const at = (slot * w + p) * 2;
      xy[at] = x;
      xy[at + 1] = y;
      st[f + COUNT] = n;
      st[f + NEXT] = p + 1 === w ? 0 : p + 1;
      const ph = st[f + PHASE]! + 1;
      st[f + PHASE] = ph === options.every ? 0 : ph;
      if (ph !== options.every || n < w) return null;
      return fitSlot(slot) ? stateOf(slot) : null;
    },
    state: stateOf,
    /** The slots in [from, to) (default: all). */
    snapshot(from = 0, to = slots): TrendBankSnapshot {
      ensure(to);
      for (let s = from; s < to; s++) {
        const f = s * FIELDS;
        if (st[f + HAS] && Number.isNaN(st[f + P_VALUE]!)) st[f + P_VALUE] = pOf(st[f + T_STAT]!);
      }
      return {
        slots: to - from,
        xy: toB64(xy.subarray(from * w * 2, to * w * 2)),
        state: toB64(st.subarray(from * FIELDS, to * FIELDS)),
      };
    },
    /** Restores a snapshot into the slots from `at` on. */
    restore(state: TrendBankSnapshot, at = 0): void {
      ensure(at + state.slots);
      fromB64(state.xy, xy.subarray(at * w * 2));
      fromB64(state.state, st.subarray(at * FIELDS));
    },
  };
}
