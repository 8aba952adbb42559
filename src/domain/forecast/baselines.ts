import { fitAndForecast } from './forecast.js';
import { emptyBands, pushNormal } from './intervals.js';
import type { Forecast, ForecastOptions } from './method.js';
import { createModel, type ModelSpec, varianceMultipliers } from './models.js';
import { resolvePeriod } from './period.js';
import { validateInput } from './validate.js';

/**
 * Reference methods to compare the default forecast with: textbook Holt-Winters and seasonal naive,
 * both with analytic normal prediction intervals.
 */

/** The one-step sum of squared errors of `spec` filtering all the values. */
function sse(values: readonly number[], spec: ModelSpec): number {
  const model = createModel(values, spec);
  let sum = 0;
  for (let t = model.start; t < values.length; t++) sum += model.step(values[t]!, t) ** 2;
  return Number.isFinite(sum) ? sum : Number.POSITIVE_INFINITY;
}

const clamp = (x: number) => Math.min(0.999, Math.max(0.001, x));

/**
 * Holt-Winters as in the textbooks (and R's `HoltWinters`): additive season (the given period or the
 * one found from the values; Holt's linear trend without one), undamped trend, the weights α, β*, γ in
 * (0, 1) minimising the in-sample one-step sum of squared errors (a coarse grid, then a pattern search
 * halving its step down to 0.002); normal intervals from the analytic variance.
 */
export function holtWintersBaseline(values: readonly number[], options: ForecastOptions): Forecast {
  validateInput(values, options);
  const period = resolvePeriod(values, options.period);
  const m = period ?? 0;
  const specOf = ([alpha, betaStar, gamma]: readonly number[]): ModelSpec => ({
    kind: 'smoothing',
    period: m,
    alpha: alpha!,
    beta: alpha! * betaStar!,
    gamma: m ? Math.min(gamma!, 1 - alpha!) : 0,
    phi: 1,
    trend: true,
  });
  let best = [0.5, 0.1, 0.1];
  let lowest = Number.POSITIVE_INFINITY;
  for (const alpha of [0.05, 0.2, 0.4, 0.6, 0.8, 0.95])
    for (const betaStar of [0.01, 0.1, 0.3])
      for (const gamma of m ? [0.05, 0.2, 0.5] : [0]) {
        const error = sse(values, specOf([alpha, betaStar, gamma]));
        if (error < lowest) {
          lowest = error;
          best = [alpha, betaStar, gamma];
        }
      }
  const dims = m ? 3 : 2;
  for (let step = 0.1; step >= 0.002; ) {
    let moved = false;
    for (let d = 0; d < dims; d++)
      for (const sign of [1, -1]) {
        const trial = [...best];
        trial[d] = clamp(trial[d]! + sign * step);
        const error = sse(values, specOf(trial));
        if (error < lowest) {
          lowest = error;
          best = trial;
          moved = true;
        }
      }
    if (!moved) step /= 2;
  }
  const spec = specOf(best);
  const { mean, bands } = fitAndForecast(values, spec, options.horizon, false);
  return {
    mean,
    ...bands,
    settings: {
      method: period ? 'holtWinters' : 'holt',
      period,
      params: {
        alpha: best[0]!,
        beta: spec.kind === 'smoothing' ? spec.beta : null,
        gamma: period ? best[2]! : null,
        phi: 1,
        fit: 'sse',
        intervals: 'analytic',
      },
      cvError: null,
    },
  };
}

/**
 * Seasonal naive: each future value is the last one of the same phase of the season (the given period or
 * the one found from the values; the last value without one). Intervals: normal, with the in-sample
 * variance of the seasonal differences times the number of seasons ahead.
 */
export function seasonalNaive(values: readonly number[], options: ForecastOptions): Forecast {
  validateInput(values, options);
  const period = resolvePeriod(values, options.period);
  const spec: ModelSpec = { kind: 'naive', period: period ?? 1 };
  const model = createModel(values, spec);
  let sum = 0;
  let count = 0;
  for (let t = model.start; t < values.length; t++) {
    sum += model.step(values[t]!, t) ** 2;
    count++;
  }
  const h = options.horizon;
  const out = new Float64Array(h);
  model.forecastInto(out, h, values.length);
  const sigma = count ? Math.sqrt(sum / count) : 0;
  const multipliers = varianceMultipliers(spec, h);
  const bands = emptyBands();
  for (let j = 0; j < h; j++) pushNormal(bands, out[j]!, sigma * Math.sqrt(multipliers[j]!));
  return {
    mean: Array.from(out),
    ...bands,
    settings: {
      method: period ? 'seasonalNaive' : 'naive',
      period,
      params: { lag: period ?? 1, intervals: 'analytic' },
      cvError: null,
    },
  };
}
