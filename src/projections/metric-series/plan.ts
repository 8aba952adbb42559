/**
 * Which store serves which part of a range. A rollup row covers one whole minute (`samples_1m`) or
 * hour (`samples_1h`), so it may serve only where it lies wholly inside the range asked for and
 * wholly inside one bucket — that is, its width divides the step (buckets are aligned to multiples of
 * the step since the epoch, rollup rows to multiples of their width). What is left at the edges comes
 * from the raw samples. No bucket ever holds a sample outside `[from, to)`.
 */

export type Source = 'raw' | '1m' | '1h';

export interface Segment {
  readonly source: Source;
  /** Epoch milliseconds, `[from, to)`. */
  readonly from: number;
  readonly to: number;
}

export const ROLLUP_TIERS = [
  { source: '1h', table: 'samples_1h', width: 3_600_000 },
  { source: '1m', table: 'samples_1m', width: 60_000 },
] as const;

const floorTo = (ms: number, width: number) => Math.floor(ms / width) * width;
const ceilTo = (ms: number, width: number) => Math.ceil(ms / width) * width;

/**
 * `[from, to)` cut into segments, each served by the coarsest store allowed: the widest rollup whose
 * width divides `stepMs` (any rollup when `stepMs` is null: one bucket for the whole range) over the
 * whole rows of it that fit, narrower ones over what is left, raw samples at the edges. In time order.
 */
export function planSegments(from: number, to: number, stepMs: number | null): Segment[] {
  const tiers = ROLLUP_TIERS.filter((tier) => stepMs === null || stepMs % tier.width === 0);
  const out: Segment[] = [];
  const split = (a: number, b: number, rest: readonly (typeof ROLLUP_TIERS)[number][]): void => {
    if (a >= b) return;
    const [tier, ...narrower] = rest;
    if (!tier) {
      out.push({ source: 'raw', from: a, to: b });
      return;
    }
    const lo = ceilTo(a, tier.width);
    const hi = floorTo(b, tier.width);
    if (lo >= hi) {
      split(a, b, narrower);
      return;
    }
    split(a, lo, narrower);
    out.push({ source: tier.source, from: lo, to: hi });
    split(hi, b, narrower);
  };
  split(from, to, tiers);
  return out;
}

/** The start of the bucket holding `ms`: buckets are `[t, t + step)` with `t` a multiple of the step. */
export const bucketStart = (ms: number, stepMs: number) => floorTo(ms, stepMs);

/** How many buckets `[from, to)` touches. */
export const bucketCount = (from: number, to: number, stepMs: number) =>
  to <= from ? 0 : (bucketStart(to - 1, stepMs) - bucketStart(from, stepMs)) / stepMs + 1;

/** The part of bucket `t` inside `[from, to)`, in milliseconds: what a rate is divided by. */
export const coveredMs = (t: number, stepMs: number, from: number, to: number) =>
  Math.min(t + stepMs, to) - Math.max(t, from);
