import FFT from 'fft.js';
import { seasonalityFromAcf } from '../analytics/patterns.js';

/** Autocorrelation a lag needs to count as a season (as the periodicity finding's default). */
export const MIN_SEASON_STRENGTH = 0.3;

/** Autocorrelation at lags 0..maxLag (biased), by FFT: zero-padded so the circular one equals the linear one. */
function acf(values: readonly number[], maxLag: number): Float64Array {
  const n = values.length;
  const lags = Math.min(maxLag, n - 1) + 1;
  let size = 2;
  while (size < n + lags) size *= 2;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  const input = new Float64Array(size);
  for (let i = 0; i < n; i++) input[i] = values[i]! - mean;
  const fft = new FFT(size);
  const spectrum = fft.createComplexArray() as number[];
  fft.realTransform(spectrum, input);
  fft.completeSpectrum(spectrum);
  const power = new Float64Array(size);
  for (let i = 0; i < size; i++) power[i] = spectrum[2 * i]! ** 2 + spectrum[2 * i + 1]! ** 2;
  // The power spectrum is real and symmetric: its inverse transform is its forward one over the size.
  fft.realTransform(spectrum, power);
  const out = new Float64Array(lags);
  const r0 = spectrum[0]!;
  for (let lag = 0; lag < lags; lag++) out[lag] = r0 > 1e-12 * n * size ? spectrum[2 * lag]! / r0 : 0;
  return out;
}

/** The values minus their least-squares line: a trend would shift the autocorrelation's peaks. */
function detrended(values: readonly number[]): number[] {
  const n = values.length;
  const tMean = (n - 1) / 2;
  let yMean = 0;
  for (const v of values) yMean += v;
  yMean /= n;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    sxy += (t - tMean) * (values[t]! - yMean);
    sxx += (t - tMean) ** 2;
  }
  const slope = sxx ? sxy / sxx : 0;
  return values.map((v, t) => v - yMean - slope * (t - tMean));
}

/**
 * The season of a series found from its values, as the periodicity finding does
 * (`seasonalityFromAcf`: the strongest local autocorrelation peak reaching 0.3), on the values without
 * their linear trend, among periods that repeat at least three times; null without one.
 */
export function detectPeriod(values: readonly number[]): number | null {
  const maxPeriod = Math.floor(values.length / 3);
  if (maxPeriod < 2) return null;
  const found = seasonalityFromAcf(acf(detrended(values), maxPeriod + 1), 2, MIN_SEASON_STRENGTH);
  return found ? found.period : null;
}

/**
 * The season a forecast uses: the given one (the periodicity finding) or, when none is given (undefined
 * or null), the one found from the values; none when the series holds fewer than two full seasons plus
 * a point, since the season is initialised from the first two.
 */
export function resolvePeriod(values: readonly number[], period: number | null | undefined): number | null {
  if (period !== undefined && period !== null && (!Number.isFinite(period) || period < 1))
    throw new RangeError(`the period must be a positive number of points (got ${period})`);
  const m = period === undefined || period === null ? detectPeriod(values) : Math.round(period);
  return m !== null && m >= 2 && values.length > 2 * m ? m : null;
}
