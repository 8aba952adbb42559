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

/** The snapshot of `BlockStats`: its numbers (base64 Float64, see `BlockStats`). */
export interface BlockStatsState {
  blocks: string;
}

// Layout of a `BlockStats` state array: a header, then `kept` block sums, then `kept` block sums of squares.
const B_ORIGIN = 0; // NaN: no value yet
const B_PARTIAL_SUM = 1;
const B_PARTIAL_SQ = 2;
const B_PARTIAL_COUNT = 3;
const B_HEAD = 4; // index of the oldest completed block
const B_COMPLETED = 5; // completed blocks kept (≤ kept)
const B_SUM = 6; // sum over the completed blocks kept
const B_SQ = 7;
const B_HEADER = 8;

/**
 * Mean and variance over (about) the last `window` values in bounded memory: the values are summed in
 * blocks of `ceil(window / blocks)`, and the last `floor(window / blockSize)` completed blocks are kept
 * (their sums and sums of squares) with the block being filled. The statistics cover the completed
 * blocks kept and the partial block: between `window` and `window + blockSize − 1` values once full,
 * every value so far before that, and each is exactly the plain mean and sample variance of the values
 * it covers (a block leaves whole, so the window's start moves by blocks, not by samples). With
 * `blocks ≥ window` it is the exact rolling window. 16 bytes a block (64 blocks: 1 KiB) against
 * 8 bytes a value for a ring.
 *
 * Values are kept relative to the first one seen (as `RollingStats`), and the completed blocks' totals
 * are re-summed whenever a block completes, so no rounding accumulates from adding and removing.
 */
export class BlockStats {
  readonly blockSize: number;
  readonly kept: number;
  /** Header, then sums, then sums of squares (one array: compact, and one copy to snapshot). */
  private readonly s: Float64Array;

  constructor(
    readonly window: number,
    blocks = 64,
  ) {
    this.blockSize = Math.max(1, Math.ceil(window / Math.max(1, blocks)));
    this.kept = Math.max(1, Math.floor(window / this.blockSize));
    this.s = new Float64Array(B_HEADER + 2 * this.kept);
    this.s[B_ORIGIN] = Number.NaN;
  }

  /** Bytes of state (the typed array's contents). */
  get stateBytes(): number {
    return this.s.byteLength;
  }

  push(raw: number): void {
    const s = this.s;
    let origin = s[B_ORIGIN]!;
    if (Number.isNaN(origin)) {
      origin = raw;
      s[B_ORIGIN] = raw;
    }
    const v = raw - origin;
    s[B_PARTIAL_SUM] = s[B_PARTIAL_SUM]! + v;
    s[B_PARTIAL_SQ] = s[B_PARTIAL_SQ]! + v * v;
    const partial = s[B_PARTIAL_COUNT]! + 1;
    if (partial < this.blockSize) {
      s[B_PARTIAL_COUNT] = partial;
      return;
    }
    // The block is complete: it replaces the oldest kept one (if all are in use).
    const kept = this.kept;
    const completed = s[B_COMPLETED]!;
    const head = s[B_HEAD]!;
    const at = completed < kept ? (head + completed) % kept : head;
    s[B_HEADER + at] = s[B_PARTIAL_SUM]!;
    s[B_HEADER + kept + at] = s[B_PARTIAL_SQ]!;
    if (completed < kept) s[B_COMPLETED] = completed + 1;
    else s[B_HEAD] = (head + 1) % kept;
    s[B_PARTIAL_SUM] = 0;
    s[B_PARTIAL_SQ] = 0;
    s[B_PARTIAL_COUNT] = 0;
    let sum = 0;
    let sq = 0;
    const n = s[B_COMPLETED]!;
    for (let b = 0; b < n; b++) {
      sum += s[B_HEADER + b]!;
      sq += s[B_HEADER + kept + b]!;
    }
    s[B_SUM] = sum;
    s[B_SQ] = sq;
  }

  /** Values the statistics cover. */
  get length(): number {
    return this.s[B_COMPLETED]! * this.blockSize + this.s[B_PARTIAL_COUNT]!;
  }

  get mean(): number {
    const s = this.s;
    const n = this.length;
    return n ? s[B_ORIGIN]! + (s[B_SUM]! + s[B_PARTIAL_SUM]!) / n : 0;
  }

  get std(): number {
    const s = this.s;
    const n = this.length;
    if (n < 2) return 0;
    const sum = s[B_SUM]! + s[B_PARTIAL_SUM]!;
    const variance = (s[B_SQ]! + s[B_PARTIAL_SQ]! - (sum * sum) / n) / (n - 1);
    return variance > 0 ? Math.sqrt(variance) : 0;
  }

  snapshot(): BlockStatsState {
    return { blocks: toB64(this.s) };
  }

  /** Restores a snapshot of its own, or of a `RollingStats` (older checkpoints): its values re-summed in blocks. */
  restore(state: BlockStatsState | StatsState): void {
    this.s.fill(0);
    this.s[B_ORIGIN] = Number.NaN;
    if ('blocks' in state) {
      fromB64(state.blocks, this.s);
      return;
    }
    const ring = new Float64Array(state.count);
    fromB64(state.ring, ring);
    const origin = state.origin ?? 0;
    // Oldest first: a full ring starts at `next`.
    const start = state.next >= state.count ? 0 : state.next;
    for (let i = 0; i < state.count; i++) this.push(ring[(start + i) % state.count]! + origin);
  }
}

/**
 * Z-score against (about) the previous `window` values: their mean and standard deviation, kept in
 * `blocks` block sums (`BlockStats`; bounded memory, 1 KiB for 64 blocks whatever the window).
 */
export function zScoreDetector(window = 288, warmup = 30, blocks = 64): Detector {
  const stats = new BlockStats(window, blocks);
  return {
    name: 'zscore',
    update(value) {
      let out: Detection | null = null;
      if (stats.length >= warmup) {
        const mean = stats.mean;
        const std = stats.std || 1e-9;
        const z = (value - mean) / std;
        out = {
          score: zToScore(z),
          sigmas: Math.abs(z),
          detector: 'zscore',
          expectedLow: mean - 3 * std,
          expectedHigh: mean + 3 * std,
        };
      }
      stats.push(value);
      return out;
    },
    updateInto(value, out) {
      let name: string | null = null;
      if (stats.length >= warmup) {
        const mean = stats.mean;
        const std = stats.std || 1e-9;
        const z = (value - mean) / std;
        out[0] = zToScore(z);
        out[1] = Math.abs(z);
        out[2] = mean - 3 * std;
        out[3] = mean + 3 * std;
        name = 'zscore';
      }
      stats.push(value);
      return name;
    },
    snapshot: () => stats.snapshot(),
    restore: (state) => stats.restore(state as BlockStatsState | StatsState),
  };
}
