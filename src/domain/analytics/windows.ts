import { fromB64, grown, toB64 } from './columns.js';

/** A sliding window: the last `samples` values, or those of the last `ms` (at most `maxSamples`). */
export type WindowSpec =
  | { readonly name: string; readonly samples: number }
  | { readonly name: string; readonly ms: number; readonly maxSamples: number };

export interface WindowStats {
  readonly name: string;
  readonly count: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 below two values. */
  readonly std: number;
  readonly min: number;
  readonly max: number;
}

export interface WindowColumnsSnapshot {
  /** Values held per slot, base64 Int32. */
  readonly counts: string;
  /** Per slot: origin, sum and sum of squares (relative to the origin), base64 Float64. */
  readonly sums: string;
  /** Per slot: 1 once it has an origin, base64 Uint8. */
  readonly hasOrigin: string;
  /** Per slot: pushes until the sums are next recomputed, base64 Int32. */
  readonly until: string;
}

/**
 * Every window holds a suffix of its series' samples (the last n, or those since a time), so the
 * values are kept once a slot: the longest window's, and the times of the longest time window's.
 */
export interface WindowBankSnapshot {
  readonly slots: number;
  readonly windows: WindowColumnsSnapshot[];
  /** Per slot: how many recent values and times follow, base64 Int32. */
  readonly valueCounts: string;
  readonly timeCounts: string;
  /** Every slot's recent values, oldest first, slot after slot; base64 Float64. */
  readonly values: string;
  /**
   * Their times: each slot's first (base64 Float64) and the steps from it (base64 Int32, the first 0)
   * when every step is a whole number of milliseconds that fits; else `times`, base64 Float64.
   */
  readonly timeStarts?: string;
  readonly timeSteps?: string;
  readonly times?: string;
}

/** A slot's recent values and times (oldest first) to restore windows from. */
type Recent = (slot: number) => { values: Float64Array; times: Float64Array };

// A slot's scalars, side by side in one Float64Array (one or two cache lines a slot, not one per field).
const START = 0;
const COUNT = 1;
/** Values (from START on) whose suffix minima and maxima are stored with them: the "front". */
const FRONT = 2;
/** Minimum and maximum of the values after the front: the "back" (±Infinity while it is empty). */
const BACK_MIN = 3;
const BACK_MAX = 4;
const SUM = 5;
const SUM_SQ = 6;
/** NaN until the slot's first value. */
const ORIGIN = 7;
const UNTIL = 8;
const FIELDS = 9;

// A ring entry: the value, its suffix minimum and maximum (valid in the front), and its time (time windows).
const VALUE = 0;
const SUF_MIN = 1;
const SUF_MAX = 2;
const TIME = 3;

/**
 * One sliding window over every slot, state in typed arrays (`cap` entries a slot): a ring of values
 * (with their times, for a time window) and running sums for the mean and variance, O(1) per sample.
 * Minimum and maximum come from the two-stack queue: the older values (the front) carry the minimum
 * and maximum of themselves and everything after them in the front, the newer ones (the back) only a
 * running minimum and maximum; when the front runs out, the whole window becomes the front in one
 * backward pass — O(1) amortised, and a sample touches two places of memory (where it is written and
 * where the oldest leaves), which matters more than operation counts across thousands of series.
 * Sums are kept relative to the slot's first value (large, steady values would otherwise lose their
 * spread to rounding) and recomputed from the values every `cap` pushes, so rounding from subtracting
 * evicted values never accumulates. Written here: no library keeps windowed aggregates over typed
 * arrays for many series.
 */
class WindowColumns {
  readonly cap: number;
  private readonly timed: boolean;
  private readonly ms: number;
  /** Entries of `width` numbers (see VALUE…TIME), `cap` a slot. */
  private ring = new Float64Array(0);
  private readonly width: number;
  private state = new Float64Array(0);
  private slots = 0;

  constructor(readonly spec: WindowSpec) {
    this.timed = 'ms' in spec;
    this.cap = 'ms' in spec ? spec.maxSamples : spec.samples;
    this.ms = 'ms' in spec ? spec.ms : 0;
    this.width = this.timed ? 4 : 3;
  }

  ensure(n: number): void {
    if (n <= this.slots) return;
    const fresh = this.slots;
    this.slots = n;
    this.ring = grown(this.ring, n * this.cap * this.width, Float64Array);
    this.state = grown(this.state, n * FIELDS, Float64Array);
    for (let s = fresh; s < n; s++) this.clear(s);
  }

  private clear(slot: number): void {
    const f = slot * FIELDS;
    this.state.fill(0, f, f + FIELDS);
    this.state[f + BACK_MIN] = Number.POSITIVE_INFINITY;
    this.state[f + BACK_MAX] = Number.NEGATIVE_INFINITY;
    this.state[f + ORIGIN] = Number.NaN;
    this.state[f + UNTIL] = this.cap;
  }

  /** Entry offset of the i-th value (oldest first) of a slot. */
  private entry(slot: number, i: number): number {
    let at = this.state[slot * FIELDS + START]! + i;
    if (at >= this.cap) at -= this.cap;
    return (slot * this.cap + at) * this.width;
  }

  /** The whole window becomes the front: suffix minima and maxima, newest to oldest. */
  private rebuild(slot: number): void {
    const st = this.state;
    const f = slot * FIELDS;
    const ring = this.ring;
    const n = st[f + COUNT]!;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = n - 1; i >= 0; i--) {
      const e = this.entry(slot, i);
      const v = ring[e + VALUE]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      ring[e + SUF_MIN] = lo;
      ring[e + SUF_MAX] = hi;
    }
    st[f + FRONT] = n;
    st[f + BACK_MIN] = Number.POSITIVE_INFINITY;
    st[f + BACK_MAX] = Number.NEGATIVE_INFINITY;
  }

  /** Drops the oldest value of a slot. */
  private evict(slot: number): void {
    const st = this.state;
    const f = slot * FIELDS;
    if (st[f + FRONT] === 0) this.rebuild(slot);
    const at = st[f + START]!;
    const v = this.ring[(slot * this.cap + at) * this.width + VALUE]! - st[f + ORIGIN]!;
    st[f + SUM]! -= v;
    st[f + SUM_SQ]! -= v * v;
    st[f + START] = at + 1 === this.cap ? 0 : at + 1;
    st[f + COUNT]!--;
    st[f + FRONT]!--;
  }

  push(slot: number, t: number, value: number): void {
    const c = this.cap;
    const st = this.state;
    const f = slot * FIELDS;
    const w = this.width;
    if (this.timed) {
      const from = t - this.ms;
      while (st[f + COUNT]! > 0 && this.ring[(slot * c + st[f + START]!) * w + TIME]! <= from)
        this.evict(slot);
    }
    if (st[f + COUNT] === c) this.evict(slot);
    if (Number.isNaN(st[f + ORIGIN]!)) st[f + ORIGIN] = value;
    let at = st[f + START]! + st[f + COUNT]!;
    if (at >= c) at -= c;
    const e = (slot * c + at) * w;
    this.ring[e + VALUE] = value;
    if (this.timed) this.ring[e + TIME] = t;
    st[f + COUNT]!++;
    if (value < st[f + BACK_MIN]!) st[f + BACK_MIN] = value;
    if (value > st[f + BACK_MAX]!) st[f + BACK_MAX] = value;
    const v = value - st[f + ORIGIN]!;
    st[f + SUM]! += v;
    st[f + SUM_SQ]! += v * v;
    if (--st[f + UNTIL]! === 0) this.recompute(slot);
  }

  /** Sums from the values themselves, oldest first (so the same after a restore). */
  private recompute(slot: number): void {
    const f = slot * FIELDS;
    const origin = this.state[f + ORIGIN]!;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < this.state[f + COUNT]!; i++) {
      const v = this.ring[this.entry(slot, i) + VALUE]! - origin;
      sum += v;
      sumSq += v * v;
    }
    this.state[f + SUM] = sum;
    this.state[f + SUM_SQ] = sumSq;
    this.state[f + UNTIL] = this.cap;
  }

  size(slot: number): number {
    return slot < this.slots ? this.state[slot * FIELDS + COUNT]! : 0;
  }

  mean(slot: number): number {
    const n = this.size(slot);
    const f = slot * FIELDS;
    return n ? this.state[f + ORIGIN]! + this.state[f + SUM]! / n : Number.NaN;
  }

  std(slot: number): number {
    const n = this.size(slot);
    if (n < 2) return 0;
    const f = slot * FIELDS;
    const sum = this.state[f + SUM]!;
    const variance = (this.state[f + SUM_SQ]! - (sum * sum) / n) / (n - 1);
    return variance > 0 ? Math.sqrt(variance) : 0;
  }

  min(slot: number): number {
    if (!this.size(slot)) return Number.NaN;
    const f = slot * FIELDS;
    const front =
      this.state[f + FRONT]! > 0 ? this.ring[this.entry(slot, 0) + SUF_MIN]! : Number.POSITIVE_INFINITY;
    return Math.min(front, this.state[f + BACK_MIN]!);
  }

  max(slot: number): number {
    if (!this.size(slot)) return Number.NaN;
    const f = slot * FIELDS;
    const front =
      this.state[f + FRONT]! > 0 ? this.ring[this.entry(slot, 0) + SUF_MAX]! : Number.NEGATIVE_INFINITY;
    return Math.max(front, this.state[f + BACK_MAX]!);
  }

  /** A slot's values (or times), oldest first, into `out` (from 0); returns how many. */
  copyValues(slot: number, out: Float64Array, times = false): number {
    const n = this.size(slot);
    for (let i = 0; i < n; i++) out[i] = this.ring[this.entry(slot, i) + (times ? TIME : VALUE)]!;
    return n;
  }

  /** The slots in [from, to) (default: all). */
  snapshot(from = 0, to = this.slots): WindowColumnsSnapshot {
    this.ensure(to);
    const n = to - from;
    const counts = new Int32Array(n);
    const sums = new Float64Array(3 * n);
    const hasOrigin = new Uint8Array(n);
    const until = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = i;
      const f = (from + i) * FIELDS;
      counts[s] = this.state[f + COUNT]!;
      const origin = this.state[f + ORIGIN]!;
      hasOrigin[s] = Number.isNaN(origin) ? 0 : 1;
      sums[3 * s] = hasOrigin[s] ? origin : 0;
      sums[3 * s + 1] = this.state[f + SUM]!;
      sums[3 * s + 2] = this.state[f + SUM_SQ]!;
      until[s] = this.state[f + UNTIL]!;
    }
    return { counts: toB64(counts), sums: toB64(sums), hasOrigin: toB64(hasOrigin), until: toB64(until) };
  }

  /**
   * Restores every slot's last `count` values (from `recent`) oldest first from ring position 0
   * (minima and maxima are functions of the values alone, so rebuilding them gives the same answers),
   * and the sums as they were.
   */
  restore(slots: number, state: WindowColumnsSnapshot, recent: Recent, at = 0): void {
    this.ensure(at + slots);
    const counts = new Int32Array(slots);
    fromB64(state.counts, counts);
    const sums = new Float64Array(3 * slots);
    fromB64(state.sums, sums);
    const hasOrigin = new Uint8Array(slots);
    fromB64(state.hasOrigin, hasOrigin);
    const until = new Int32Array(slots);
    fromB64(state.until, until);
    for (let s = 0; s < slots; s++) {
      const slot = at + s;
      const f = slot * FIELDS;
      const n = counts[s]!;
      this.clear(slot);
      this.state[f + ORIGIN] = sums[3 * s]!;
      const { values, times } = recent(s);
      const v0 = values.length - n;
      const t0 = times.length - n;
      if (v0 < 0 || (this.timed && t0 < 0))
        throw new Error('window snapshot: fewer recent values than the window held');
      // Re-pushing rebuilds the ring (never reaching a recompute); the sums are then set back.
      for (let i = 0; i < n; i++) {
        this.state[f + UNTIL] = 2;
        this.push(slot, this.timed ? times[t0 + i]! : 0, values[v0 + i]!);
      }
      if (!hasOrigin[s]) this.state[f + ORIGIN] = Number.NaN;
      this.state[f + SUM] = sums[3 * s + 1]!;
      this.state[f + SUM_SQ] = sums[3 * s + 2]!;
      this.state[f + UNTIL] = until[s]!;
    }
  }

  get isTimed(): boolean {
    return this.timed;
  }
}

/** Times as each slot's first and whole-millisecond steps from it (half the size), when they are. */
function encodeTimes(
  times: Float64Array,
  counts: Int32Array,
): { timeStarts: string; timeSteps: string } | { times: string } {
  const starts = new Float64Array(counts.length);
  const steps = new Int32Array(times.length);
  for (let s = 0, at = 0; s < counts.length; at += counts[s]!, s++) {
    starts[s] = counts[s]! > 0 ? times[at]! : 0;
    for (let i = 0; i < counts[s]!; i++) {
      const step = times[at + i]! - starts[s]!;
      if (!Number.isInteger(step) || step > 2_147_483_647 || step < -2_147_483_648)
        return { times: toB64(times) };
      steps[at + i] = step;
    }
  }
  return { timeStarts: toB64(starts), timeSteps: toB64(steps) };
}

function decodeTimes(state: WindowBankSnapshot, counts: Int32Array, out: Float64Array): void {
  if (state.times !== undefined || state.timeStarts === undefined || state.timeSteps === undefined) {
    fromB64(state.times ?? '', out);
    return;
  }
  const starts = new Float64Array(counts.length);
  const steps = new Int32Array(out.length);
  fromB64(state.timeStarts, starts);
  fromB64(state.timeSteps, steps);
  for (let s = 0, at = 0; s < counts.length; at += counts[s]!, s++)
    for (let i = 0; i < counts[s]!; i++) out[at + i] = starts[s]! + steps[at + i]!;
}

/**
 * Several sliding windows (short, medium, long; by count or by time) over every slot of a pipeline,
 * kept incrementally: O(1) per sample and window (amortised), bounded at each window's capacity per
 * series.
 */
export function createWindowBank(specs: readonly WindowSpec[]) {
  const windows = specs.map((spec) => new WindowColumns(spec));
  let slots = 0;
  return {
    specs,
    push(slot: number, t: number, value: number): void {
      if (slot >= slots) {
        slots = slot + 1;
        for (const w of windows) w.ensure(slots);
      }
      for (let w = 0; w < windows.length; w++) windows[w]!.push(slot, t, value);
    },
    count: (slot: number, w: number) => windows[w]!.size(slot),
    mean: (slot: number, w: number) => windows[w]!.mean(slot),
    std: (slot: number, w: number) => windows[w]!.std(slot),
    min: (slot: number, w: number) => windows[w]!.min(slot),
    max: (slot: number, w: number) => windows[w]!.max(slot),
    /** Window `w` of a slot, oldest first (a fresh array). */
    values(slot: number, w: number): Float64Array {
      const out = new Float64Array(windows[w]!.size(slot));
      windows[w]!.copyValues(slot, out);
      return out;
    },
    /** The times of window `w` of a slot, oldest first, for a time window (a fresh array); null for a count window. */
    times(slot: number, w: number): Float64Array | null {
      if (!('ms' in specs[w]!)) return null;
      const out = new Float64Array(windows[w]!.size(slot));
      windows[w]!.copyValues(slot, out, true);
      return out;
    },
    /** Window `w` of a slot; all zero while it is empty. */
    stats(slot: number, w: number): WindowStats {
      const window = windows[w]!;
      if (window.size(slot) === 0) return { name: specs[w]!.name, count: 0, mean: 0, std: 0, min: 0, max: 0 };
      return {
        name: specs[w]!.name,
        count: window.size(slot),
        mean: window.mean(slot),
        std: window.std(slot),
        min: window.min(slot),
        max: window.max(slot),
      };
    },
    /** The slots in [from, to) (default: all). */
    snapshot(from = 0, to = slots): WindowBankSnapshot {
      if (to > slots) {
        slots = to;
        for (const w of windows) w.ensure(slots);
      }
      const n = to - from;
      const valueCounts = new Int32Array(n);
      const timeCounts = new Int32Array(n);
      const longest: number[] = [];
      const longestTimed: number[] = [];
      for (let i = 0; i < n; i++) {
        const s = from + i;
        let best = 0;
        let bestTimed = -1;
        for (const [w, window] of windows.entries()) {
          if (window.size(s) > windows[best]!.size(s)) best = w;
          if (window.isTimed && (bestTimed < 0 || window.size(s) > windows[bestTimed]!.size(s)))
            bestTimed = w;
        }
        longest.push(best);
        longestTimed.push(bestTimed);
        valueCounts[i] = windows[best]!.size(s);
        timeCounts[i] = bestTimed < 0 ? 0 : windows[bestTimed]!.size(s);
      }
      const values = new Float64Array(valueCounts.reduce((a, b) => a + b, 0));
      const times = new Float64Array(timeCounts.reduce((a, b) => a + b, 0));
      for (let i = 0, v = 0, t = 0; i < n; i++) {
        const s = from + i;
        v += windows[longest[i]!]!.copyValues(s, values.subarray(v));
        if (longestTimed[i]! >= 0) t += windows[longestTimed[i]!]!.copyValues(s, times.subarray(t), true);
      }
      return {
        slots: n,
        windows: windows.map((w) => w.snapshot(from, to)),
        valueCounts: toB64(valueCounts),
        timeCounts: toB64(timeCounts),
        values: toB64(values),
        ...encodeTimes(times, timeCounts),
      };
    },
    /** Restores a snapshot into the slots from `at` on. */
    restore(state: WindowBankSnapshot, at = 0): void {
      slots = Math.max(slots, at + state.slots);
      const valueCounts = new Int32Array(state.slots);
      const timeCounts = new Int32Array(state.slots);
      fromB64(state.valueCounts, valueCounts);
      fromB64(state.timeCounts, timeCounts);
      const values = new Float64Array(valueCounts.reduce((a, b) => a + b, 0));
      const times = new Float64Array(timeCounts.reduce((a, b) => a + b, 0));
      fromB64(state.values, values);
      decodeTimes(state, timeCounts, times);
      const valueAt = new Int32Array(state.slots + 1);
      const timeAt = new Int32Array(state.slots + 1);
      for (let s = 0; s < state.slots; s++) {
        valueAt[s + 1] = valueAt[s]! + valueCounts[s]!;
        timeAt[s + 1] = timeAt[s]! + timeCounts[s]!;
      }
      const recent: Recent = (s) => ({
        values: values.subarray(valueAt[s]!, valueAt[s + 1]!),
        times: times.subarray(timeAt[s]!, timeAt[s + 1]!),
      });
      for (const [i, w] of windows.entries()) {
        w.ensure(slots);
        w.restore(state.slots, state.windows[i]!, recent, at);
      }
    },
  };
}

export type WindowBank = ReturnType<typeof createWindowBank>;
