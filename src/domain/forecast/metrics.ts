/**
 * Accuracy measures of a forecast against what happened. Pure; arrays are compared point by point
 * over the shorter of the two.
 */

/**
 * The in-sample mean absolute error of the seasonal naive one-step forecast (y[t] predicted by
 * y[t − lag]), lag = period, or 1 without a season: the scale of MASE. 0 for a series that repeats
 * itself exactly (a constant one).
 */
export function naiveScale(insample: readonly number[], period: number | null = null): number {
  const lag = period !== null && period > 1 && insample.length > period ? period : 1;
  let sum = 0;
  let count = 0;
  for (let t = lag; t < insample.length; t++) {
    sum += Math.abs(insample[t]! - insample[t - lag]!);
    count++;
  }
  return count ? sum / count : 0;
}

/** Mean absolute error. */
export function mae(actual: readonly number[], predicted: readonly number[]): number {
  const n = Math.min(actual.length, predicted.length);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(actual[i]! - predicted[i]!);
  return n ? sum / n : 0;
}

/**
 * Mean absolute scaled error (Hyndman & Koehler): the forecast's MAE over the in-sample seasonal naive
 * one-step MAE (`naiveScale`). Below 1: better than that naive forecast was in-sample. When the scale is
 * 0 (a constant history) it is 0 for a perfect forecast and Infinity otherwise.
 */
export function mase(
  actual: readonly number[],
  predicted: readonly number[],
  insample: readonly number[],
  period: number | null = null,
): number {
  const error = mae(actual, predicted);
  const scale = naiveScale(insample, period);
  if (scale > 0) return error / scale;
  return error === 0 ? 0 : Number.POSITIVE_INFINITY;
}

/**
 * Symmetric mean absolute percentage error, in percent (0…200): mean of 2·|a − f| / (|a| + |f|); a
 * point where both are 0 counts as 0.
 */
export function smape(actual: readonly number[], predicted: readonly number[]): number {
  const n = Math.min(actual.length, predicted.length);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    const f = predicted[i]!;
    const d = Math.abs(a) + Math.abs(f);
    if (d > 0) sum += (2 * Math.abs(a - f)) / d;
  }
  return n ? (100 * sum) / n : 0;
}

/** The share (0…1) of actual values inside their interval [lower, upper], bounds included. */
export function coverage(
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
): number {
  const n = Math.min(actual.length, lower.length, upper.length);
  let inside = 0;
  for (let i = 0; i < n; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) inside++;
  return n ? inside / n : 0;
}
