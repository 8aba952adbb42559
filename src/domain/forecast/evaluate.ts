import { holtWintersBaseline, seasonalNaive } from './baselines.js';
import { forecast } from './forecast.js';
import type { Forecast, ForecastOptions } from './method.js';
import { coverage, mase, smape } from './metrics.js';

/** How a forecast of held-out values did. */
export interface Score {
  readonly mase: number;
  readonly smape: number;
  readonly coverage80: number;
  readonly coverage95: number;
}

export interface HoldoutResult {
  /** The season the MASE scale uses (the given one, or found from the training values). */
  readonly period: number | null;
  readonly methods: readonly { readonly name: string; readonly forecast: Forecast; readonly score: Score }[];
}

export function score(
  actual: readonly number[],
  f: Forecast,
  insample: readonly number[],
  period: number | null,
): Score {
  return {
    mase: mase(actual, f.mean, insample, period),
    smape: smape(actual, f.mean),
    coverage80: coverage(actual, f.lower80, f.upper80),
    coverage95: coverage(actual, f.lower95, f.upper95),
  };
}

/**
 * Forecasts the last `horizon` values of a series from everything before them — the default method,
 * the Holt-Winters baseline and seasonal naive — and scores each against them. The methods only ever see
 * the values before the held-out ones; MASE is scaled by the training values' seasonal naive one-step
 * error (lag: the default method's season, or 1).
 */
export function evaluateHoldout(
  values: readonly number[],
  horizon: number,
  period?: number | null,
): HoldoutResult {
  if (!Number.isInteger(horizon) || horizon < 1 || values.length - horizon < 3)
    throw new RangeError(
      `need a positive horizon and at least 3 values before it (${values.length} values, horizon ${horizon})`,
    );
  const train = values.slice(0, values.length - horizon);
  const actual = values.slice(values.length - horizon);
  const options: ForecastOptions = { horizon, period };
  const main = forecast(train, options);
  const scalePeriod = main.settings.params.seasonConsidered;
  const lag = typeof scalePeriod === 'number' ? scalePeriod : null;
  const methods = [
    { name: 'default', forecast: main },
    { name: 'holtWinters', forecast: holtWintersBaseline(train, options) },
    { name: 'seasonalNaive', forecast: seasonalNaive(train, options) },
  ].map((m) => ({ ...m, score: score(actual, m.forecast, train, lag) }));
  return { period: lag, methods };
}
