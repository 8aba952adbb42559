/**
 * The forecasting method's contract, shared by the forecast runtime (rules, schedules, facts) and the
 * evaluation script (`npm run eval:forecast`). Pure: values in, forecasts out.
 */

/** A forecast of the `horizon` points after the values it was given, with prediction intervals. */
export interface Forecast {
  /** The expected value of each future point. */
  readonly mean: readonly number[];
  /** 80 % and 95 % prediction intervals, point by point. */
  readonly lower80: readonly number[];
  readonly upper80: readonly number[];
  readonly lower95: readonly number[];
  readonly upper95: readonly number[];
  /** What was chosen, so a forecast fact records how it was made. */
  readonly settings: ForecastSettings;
}

export interface ForecastSettings {
  /** The method chosen (e.g. `holtWinters`, `holt`, `seasonalNaive`). */
  readonly method: string;
  /** The season in points, or null without one. */
  readonly period: number | null;
  /** The method's own parameters (smoothing weights, damping…), as chosen by cross-validation. */
  readonly params: Readonly<Record<string, number | string | boolean | null>>;
  /** The cross-validated error the choice was made on (MASE on the series' own past), if any. */
  readonly cvError: number | null;
}

export interface ForecastOptions {
  readonly horizon: number;
  /** The season in points when known (the periodicity finding); otherwise found from the values. */
  readonly period?: number | null;
}
