/**
 * Scores for feature selection, computed on the training rows only. Pure. Columns are the features
 * one array each (column-major).
 */

/** Population variance of each column. */
export function variances(columns: readonly Float64Array[]): number[] {
  return columns.map((x) => {
    if (!x.length) return 0;
    let mean = 0;
    for (const v of x) mean += v;
    mean /= x.length;
    let ss = 0;
    for (const v of x) ss += (v - mean) ** 2;
    return ss / x.length;
  });
}

/** |Pearson r| of each column with the target; 0 for a column (or target) without variance. */
export function absCorrelations(columns: readonly Float64Array[], target: readonly number[]): number[] {
  const n = target.length;
  let my = 0;
  for (const y of target) my += y;
  my /= n || 1;
  let vy = 0;
  for (const y of target) vy += (y - my) ** 2;
  return columns.map((x) => {
    let mx = 0;
    for (const v of x) mx += v;
    mx /= n || 1;
    let cov = 0;
    let vx = 0;
    for (let i = 0; i < n; i++) {
      cov += (x[i]! - mx) * (target[i]! - my);
      vx += (x[i]! - mx) ** 2;
    }
    return vx > 0 && vy > 0 ? Math.min(1, Math.abs(cov) / Math.sqrt(vx * vy)) : 0;
  });
}

/**
 * Indices (ascending) of the scores to keep: at or above `threshold` when given, then the `topK` best
 * of those when given (ties: the earlier feature first).
 */
export function keepBest(scores: readonly number[], topK?: number, threshold?: number): number[] {
  let kept = scores.map((s, i) => ({ s, i })).filter(({ s }) => threshold === undefined || s >= threshold);
  if (topK !== undefined) kept = [...kept].sort((a, b) => b.s - a.s || a.i - b.i).slice(0, topK);
  return kept.map(({ i }) => i).sort((a, b) => a - b);
}
