/**
 * Quantile estimate from cumulative histogram buckets (upper bounds ascending, the last one +Inf),
 * interpolating linearly inside the bucket the rank falls in — Prometheus' histogram_quantile.
 * Returns NaN when there are no observations. A rank in the +Inf bucket returns the highest finite bound.
 */
export function histogramQuantile(
  q: number,
  upperBounds: readonly number[],
  cumulativeCounts: readonly number[],
): number {
  if (upperBounds.length !== cumulativeCounts.length || upperBounds.length === 0) {
    throw new Error('histogramQuantile: bounds and counts must be non-empty and of the same length');
  }
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const total = cumulativeCounts[cumulativeCounts.length - 1]!;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let bucket = cumulativeCounts.findIndex((count) => count >= rank);
  if (bucket === -1) bucket = cumulativeCounts.length - 1;
  if (upperBounds[bucket] === Number.POSITIVE_INFINITY) {
    return upperBounds.length > 1 ? upperBounds[upperBounds.length - 2]! : Number.NaN;
  }
  const lower = bucket === 0 ? Math.min(0, upperBounds[0]!) : upperBounds[bucket - 1]!;
  const upper = upperBounds[bucket]!;
  const below = bucket === 0 ? 0 : cumulativeCounts[bucket - 1]!;
  const inBucket = cumulativeCounts[bucket]! - below;
  if (inBucket === 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}

/** Cumulative bucket counts from per-bucket counts (OTLP's form) — Prometheus' `_bucket` form. */
export function cumulate(counts: readonly number[]): number[] {
  let running = 0;
  return counts.map((c) => (running += c));
}

/** Explicit bucket histogram that counts observations (for the in-process SDK). */
export class BucketHistogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** `bounds` ascending and finite; an implicit +Inf bucket follows them. */
  constructor(readonly bounds: readonly number[]) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) throw new Error('histogram bounds must be strictly ascending');
    }
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  cumulativeCounts(): number[] {
    return cumulate(Array.from(this.counts));
  }
}
