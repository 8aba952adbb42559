import type { Forecast, ForecastOptions } from '../domain/forecast/method.js';
import { type ForecastPoint, naiveScale } from '../domain/forecasting/forecasts.js';
import { seriesRange } from '../projections/metric-series/range.js';
import type { SeriesSelector } from '../projections/metric-series/selector.js';
import type { SeriesInfo } from '../projections/metric-series/types.js';
import type { TimeSlicer } from '../runtime/yield.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';

/** The forecasting method (`src/domain/forecast/`): values in, forecast out. */
export type ForecastMethod = (values: readonly number[], options: ForecastOptions) => Forecast;

export interface ForecastRequest {
  readonly selector: SeriesSelector;
  readonly stepMs: number;
  readonly horizon: number;
  /** How much past (ms) to read, up to `now`. */
  readonly history: number;
  readonly period?: number | null;
}

export interface SeriesForecast {
  readonly series: SeriesInfo;
  /** The first bucket read. */
  readonly historyFrom: number;
  readonly historyPoints: number;
  readonly points: ForecastPoint[];
  readonly settings: Forecast['settings'];
  readonly scale: number | null;
}

/** Fewer buckets than this and a series is not forecast. */
export const MIN_HISTORY_POINTS = 3;

/**
 * The history of a series as the forecast reads it: the average of each bucket from the first bucket
 * with samples to the last, a bucket without samples taking the value before it.
 */
export function historyValues(buckets: readonly { ts: number; avg: number }[], stepMs: number): number[] {
  if (!buckets.length) return [];
  const first = buckets[0]!.ts;
  const last = buckets[buckets.length - 1]!.ts;
  const values: number[] = [];
  let i = 0;
  let previous = buckets[0]!.avg;
  for (let ts = first; ts <= last; ts += stepMs) {
    if (i < buckets.length && buckets[i]!.ts === ts) previous = buckets[i++]!.avg;
    values.push(previous);
  }
  return values;
}

/**
 * Forecasts every series the selector matches: its complete buckets of `stepMs` in the last `history`
 * ms (the bucket still filling at `now` is left out), and the `horizon` buckets after the last one that
 * holds samples. Series with too little history are left out. Yields to the event loop between series.
 */
export async function forecastSeries(
  store: AnalyticsStore,
  method: ForecastMethod,
  request: ForecastRequest,
  now: number,
  slicer?: TimeSlicer,
): Promise<SeriesForecast[]> {
  const { stepMs, horizon } = request;
  const to = Math.floor(now / stepMs) * stepMs;
  const from = Math.floor((now - request.history) / stepMs) * stepMs;
  if (!(from < to)) return [];
  const ranges = await seriesRange(store, {
    selector: request.selector,
    from,
    to,
    stepMs,
    limit: 100_000,
  });
  const out: SeriesForecast[] = [];
  for (const range of ranges) {
    const buckets = range.buckets ?? [];
    const values = historyValues(buckets, stepMs);
    if (values.length < MIN_HISTORY_POINTS) continue;
    const made = method(values, { horizon, period: request.period ?? null });
    const lastTs = buckets[buckets.length - 1]!.ts;
    const points: ForecastPoint[] = [];
    for (let k = 0; k < horizon; k++) {
      const p = {
        ts: lastTs + (k + 1) * stepMs,
        mean: made.mean[k]!,
        lower80: made.lower80[k]!,
        upper80: made.upper80[k]!,
        lower95: made.lower95[k]!,
        upper95: made.upper95[k]!,
      };
      if (![p.mean, p.lower80, p.upper80, p.lower95, p.upper95].every(Number.isFinite)) break;
      points.push(p);
    }
    if (points.length)
      out.push({
        series: range.series,
        historyFrom: buckets[0]!.ts,
        historyPoints: values.length,
        points,
        settings: made.settings,
        scale: naiveScale(values, made.settings.period ?? request.period ?? null),
      });
    if (slicer) await slicer.yield();
  }
  return out;
}

/** The average of each bucket of one series over the buckets of a forecast (absent: no sample came). */
export async function actualsOf(
  store: AnalyticsStore,
  seriesId: string,
  points: readonly { ts: number }[],
  stepMs: number,
): Promise<Map<number, number>> {
  const from = points[0]!.ts;
  const to = points[points.length - 1]!.ts + stepMs;
  const ranges = await seriesRange(store, { selector: { seriesId }, from, to, stepMs });
  return new Map((ranges[0]?.buckets ?? []).map((b) => [b.ts, b.avg]));
}
