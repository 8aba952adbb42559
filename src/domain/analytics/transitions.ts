import { fromB64, toB64 } from './columns.js';
import type { Detection, Detector } from './detector.js';

export interface TransitionOptions {
  /** Levels are `2^bits` equal bins over the running range. */
  readonly bits: number;
  /** Samples kept to re-learn the transitions from when the range grows. */
  readonly relearn: number;
  /** After a score at or above `restLevel`, scores are 0 for this many samples. */
  readonly restPeriod: number;
  readonly restLevel: number;
}

/** CAD OSE's defaults for the shared ideas: 3 bits, rest 30 samples after a score of 0.75. */
export const DEFAULT_TRANSITIONS: TransitionOptions = {
  bits: 3,
  relearn: 2000,
  restPeriod: 30,
  restLevel: 0.75,
};

export interface TransitionState {
  min: number | null;
  max: number | null;
  count: number;
  previous: number;
  sinceHigh: number;
  /** The last `relearn` samples, oldest first: base64 Float64 (older checkpoints)… */
  recent?: string;
  /** …or base64 Uint16, each its place in [min, max] in 65,535ths (bounded state: 2 bytes a sample). */
  recent16?: string;
  /** Transition counts (levels × levels) and per-level totals (base64 Float64). */
  counts: string;
}

/**
 * Novel transitions: values are binned into levels over the running range, and a step from one level
 * to another that has not been seen before scores `n / (n + 1)`, where `n` is how often the previous
 * level has been left so far (a new step out of a well-known level is surprising; out of a rarely
 * seen one, much less); a step seen before scores 0. It is the sequence side of CAD OSE reduced to its
 * first order, at O(1) a sample: when the range grows, the levels change, so the counts are rebuilt
 * from the last `relearn` samples (only past samples). No library provides it, hence written here.
 */
export class TransitionDetector implements Detector {
  readonly name = 'transition';
  private readonly o: TransitionOptions;
  private readonly levels: number;
  private min: number | null = null;
  private max: number | null = null;
  private count = 0;
  private previous = -1;
  private sinceHigh = 0;
  /**
   * The last `relearn` samples (by count modulo `relearn`), each its place in the running range in
   * 65,535ths: all a sample is kept for is its level when the range grows, which this resolves to a
   * 65,535th of the range (re-encoded in the new range as the counts are re-learnt). It starts
   * small and doubles until it holds `relearn` (before it is first full, sample i is at i), so a new
   * series costs little until it has history.
   */
  private recent: Uint16Array;
  /** counts[from · levels + to], then totals[from] at levels² + from. */
  private readonly counts: Float64Array;
  /** Lowest and highest level reached from each level (derived from `counts`; -1 when none). */
  private readonly reached: Int32Array;

  constructor(options: Partial<TransitionOptions> = {}) {
    this.o = { ...DEFAULT_TRANSITIONS, ...options };
    this.levels = 2 ** this.o.bits;
    this.recent = new Uint16Array(Math.min(INITIAL_KEPT, Math.max(1, this.o.relearn)));
    this.counts = new Float64Array(this.levels * this.levels + this.levels);
    this.reached = new Int32Array(2 * this.levels).fill(-1);
  }

  /** Width of a level over the current range (set with the range). */
  private step = 1;

  private setRange(min: number, max: number): void {
    this.min = min;
    this.max = max;
    this.step = (max - min || this.levels - 1) / (this.levels - 1);
  }

  private level(value: number): number {
    const top = this.levels - 1;
    return Math.min(top, Math.max(0, Math.trunc((value - this.min!) / this.step)));
  }

  /** The kept sample `at` (an index into `recent`), in value units over the range [min, min + span]. */
  private static decode(q: number, min: number, span: number): number {
    return q === QMAX ? min + span : min + (q * span) / QMAX;
  }

  private encode(value: number): number {
    const span = this.max! - this.min!;
    if (!(span > 0)) return 0;
    return Math.min(QMAX, Math.max(0, Math.round(((value - this.min!) / span) * QMAX)));
  }

  /**
   * Rebuilds the transition counts from the kept samples (encoded over the range [oldMin, oldMax]),
   * binned over the current range, and re-encodes them over it.
   */
  private relearnCounts(oldMin: number | null, oldMax: number | null): void {
    this.counts.fill(0);
    this.reached.fill(-1);
    let previous = -1;
    const size = this.recent.length;
    const kept = Math.min(this.count, this.o.relearn);
    const span = oldMin === null || oldMax === null ? 0 : oldMax - oldMin;
    for (let i = this.count - kept; i < this.count; i++) {
      const at = i % size;
      const value = TransitionDetector.decode(this.recent[at]!, oldMin ?? 0, span);
      const level = this.level(value);
      if (previous !== -1) this.learn(previous, level);
      previous = level;
      this.recent[at] = this.encode(value);
    }
    this.previous = previous;
  }

  private learn(from: number, to: number): void {
    const square = this.levels * this.levels;
    if (this.counts[square + from] === 0) {
      this.reached[2 * from] = to;
      this.reached[2 * from + 1] = to;
    } else if (to < this.reached[2 * from]!) this.reached[2 * from] = to;
    else if (to > this.reached[2 * from + 1]!) this.reached[2 * from + 1] = to;
    this.counts[from * this.levels + to] = this.counts[from * this.levels + to]! + 1;
    this.counts[square + from] = this.counts[square + from]! + 1;
  }

  private readonly last = new Float64Array(4);

  update(value: number): Detection | null {
    const out = this.last;
    if (this.updateInto(value, out) === null) return null;
    return { score: out[0]!, detector: this.name, expectedLow: out[2]!, expectedHigh: out[3]! };
  }

  updateInto(value: number, out: Float64Array): string | null {
    if (this.min === null || this.max === null || value < this.min || value > this.max) {
      const oldMin = this.min;
      const oldMax = this.max;
      this.setRange(
        this.min === null ? value : Math.min(this.min, value),
        this.max === null ? value : Math.max(this.max, value),
      );
      this.relearnCounts(oldMin, oldMax);
    }
    const level = this.level(value);
    const from = this.previous;
    let raw = 0;
    // The expected range: the levels reached from the previous level before (all when none).
    let low = -1;
    let high = -1;
    if (from !== -1) {
      const row = from * this.levels;
      low = this.reached[2 * from]!;
      high = this.reached[2 * from + 1]!;
      if (this.counts[row + level] === 0) {
        const seen = this.counts[this.levels * this.levels + from]!;
        raw = seen / (seen + 1);
      }
      this.learn(from, level);
    }
    this.previous = level;
    const score = this.sinceHigh < this.o.restPeriod ? 0 : raw;
    this.sinceHigh = raw >= this.o.restLevel ? 0 : this.sinceHigh + 1;
    if (this.o.relearn > 0) {
      if (this.count < this.o.relearn && this.count >= this.recent.length) this.keep(this.count + 1);
      this.recent[this.count % this.recent.length] = this.encode(value);
    }
    this.count++;
    if (this.count <= this.o.restPeriod) return null; // an initial rest, as CAD OSE's
    const min = this.min!;
    const max = this.max!;
    out[0] = score;
    out[1] = Number.NaN;
    out[2] = low === -1 ? min : min + low * this.step;
    out[3] = high === -1 ? max : Math.min(max, min + (high + 1) * this.step);
    return this.name;
  }

  snapshot(): TransitionState {
    return {
      min: this.min,
      max: this.max,
      count: this.count,
      previous: this.previous,
      sinceHigh: this.sinceHigh,
      recent16: toB64(this.oldestFirst()),
      counts: toB64(this.counts),
    };
  }

  /** Room for `n` kept samples (at most `relearn`), while the ring has not yet been full. */
  private keep(n: number): void {
    const grown = new Uint16Array(Math.min(Math.max(1, this.o.relearn), Math.max(n, 2 * this.recent.length)));
    grown.set(this.recent);
    this.recent = grown;
  }

  /** The kept samples, oldest first. */
  private oldestFirst(): Uint16Array {
    const kept = Math.min(this.count, this.o.relearn);
    const out = new Uint16Array(kept);
    const size = this.recent.length;
    for (let i = 0; i < kept; i++) out[i] = this.recent[(this.count - kept + i) % size]!;
    return out;
  }

  restore(raw: unknown): void {
    const state = raw as TransitionState;
    if (state.min !== null && state.max !== null) this.setRange(state.min, state.max);
    this.count = state.count;
    this.previous = state.previous;
    this.sinceHigh = state.sinceHigh;
    const kept = Math.min(this.count, this.o.relearn);
    this.recent = new Uint16Array(Math.max(Math.min(INITIAL_KEPT, Math.max(1, this.o.relearn)), kept));
    const size = this.recent.length;
    if (state.recent16 !== undefined) {
      const ordered = new Uint16Array(kept);
      const n = fromB64(state.recent16, ordered);
      for (let i = 0; i < n; i++) this.recent[(this.count - n + i) % size] = ordered[i]!;
    } else if (state.recent !== undefined) {
      // An older checkpoint: the samples themselves, encoded over the range.
      const ordered = new Float64Array(kept);
      const n = fromB64(state.recent, ordered);
      for (let i = 0; i < n; i++) this.recent[(this.count - n + i) % size] = this.encode(ordered[i]!);
    }
    fromB64(state.counts, this.counts);
    this.reached.fill(-1);
    for (let from = 0; from < this.levels; from++)
      for (let to = 0; to < this.levels; to++)
        if (this.counts[from * this.levels + to]! > 0) {
          if (this.reached[2 * from] === -1) this.reached[2 * from] = to;
          this.reached[2 * from + 1] = to;
        }
  }
}

const QMAX = 65535;
/** Samples a new series' ring holds before it first grows. */
const INITIAL_KEPT = 64;

export const transitionDetector = (options: Partial<TransitionOptions> = {}): Detector =>
  new TransitionDetector(options);
