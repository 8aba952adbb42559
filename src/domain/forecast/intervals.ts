/** Prediction intervals: normal quantiles of an analytic variance, or empirical quantiles of past errors. */

export const Z80 = 1.2815515655446004;
export const Z95 = 1.959963984540054;

export interface Bands {
  lower80: number[];
  upper80: number[];
  lower95: number[];
  upper95: number[];
}

export function emptyBands(): Bands {
  return { lower80: [], upper80: [], lower95: [], upper95: [] };
}

/** The q-quantile (0…1) of sorted values, interpolated between order statistics (type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!);
}

/** Appends the normal interval of a point forecast with standard deviation `sd`. */
export function pushNormal(bands: Bands, mean: number, sd: number): void {
  bands.lower80.push(mean - Z80 * sd);
  bands.upper80.push(mean + Z80 * sd);
  bands.lower95.push(mean - Z95 * sd);
  bands.upper95.push(mean + Z95 * sd);
}

/** Appends the interval of a point forecast from the sorted errors (actual − forecast) of past forecasts. */
export function pushEmpirical(bands: Bands, mean: number, sortedErrors: Float64Array): void {
  bands.lower80.push(mean + quantile(sortedErrors, 0.1));
  bands.upper80.push(mean + quantile(sortedErrors, 0.9));
  bands.lower95.push(mean + quantile(sortedErrors, 0.025));
  bands.upper95.push(mean + quantile(sortedErrors, 0.975));
}
