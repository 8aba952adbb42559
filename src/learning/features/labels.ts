/**
 * Failure labels from stored facts. A row at time t is labelled 1 iff some fact has its time in
 * (t, t + horizonMs] — strictly after the row (what the row knows cannot include it) and at most the
 * horizon later — else 0. Pure: the fact times come in as arguments.
 */
export function labelsAt(
  rowTimes: readonly number[],
  factTimes: readonly number[],
  horizonMs: number,
): Float64Array {
  const facts = [...factTimes].sort((a, b) => a - b);
  const out = new Float64Array(rowTimes.length);
  // For each row, the first fact after t (binary search: row times need not be sorted).
  for (const [i, t] of rowTimes.entries()) {
    let lo = 0;
    let hi = facts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (facts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo < facts.length && facts[lo]! <= t + horizonMs ? 1 : 0;
  }
  return out;
}

/** Whether a row's label can be known at `now`: its whole horizon has passed. */
export const labelKnownAt = (t: number, horizonMs: number, now: number) => t + horizonMs <= now;
