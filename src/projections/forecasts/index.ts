import { readFactOf } from '../../domain/facts.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import { type Row, rowsProjection } from '../projection.js';

export const FORECASTS_TABLE = 'forecasts';
export const FORECAST_ERRORS_TABLE = 'forecast_errors';

const time = (ms: number) => clickhouseTime(new Date(ms));

/** `forecastMade` as one row per forecast point, `forecastScored` as one row per scored point. */
export const forecastsProjection = rowsProjection({
  name: 'forecasts',
  filter: { categories: ['forecasts'], eventTypes: ['forecastMade', 'forecastScored'] },
  tables: [FORECASTS_TABLE, FORECAST_ERRORS_TABLE],
  map: (events) => {
    const forecasts: Row[] = [];
    const errors: Row[] = [];
    for (const event of events) {
      const fact = readFactOf(event, 'forecastMade', 'forecastScored');
      const position = event.position.toString();
      const d = fact.data;
      if (fact.type === 'forecastMade') {
        for (const p of fact.data.points)
          forecasts.push({
            rule_id: d.ruleId,
            forecast_id: d.forecastId,
            series_id: d.seriesId,
            made_at: time(d.madeAt),
            step_ms: d.stepMs,
            ts: time(p.ts),
            mean: p.mean,
            lower80: p.lower80,
            upper80: p.upper80,
            lower95: p.lower95,
            upper95: p.upper95,
            method: fact.data.settings.method,
            position,
          });
      } else {
        for (const p of fact.data.points) {
          if (p.actual === null || p.error === null) continue;
          errors.push({
            rule_id: d.ruleId,
            forecast_id: d.forecastId,
            series_id: d.seriesId,
            made_at: time(d.madeAt),
            scored_at: time(fact.data.scoredAt),
            ts: time(p.ts),
            mean: p.mean,
            actual: p.actual,
            error: p.error,
            ape: p.ape,
            inside80: p.inside80 === true,
            inside95: p.inside95 === true,
            position,
          });
        }
      }
    }
    return { [FORECASTS_TABLE]: forecasts, [FORECAST_ERRORS_TABLE]: errors };
  },
});

export interface ForecastRowQuery {
  readonly from: Date;
  readonly to: Date;
  readonly seriesIds?: readonly string[];
  readonly ruleId?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export interface ForecastPointRow {
  readonly ruleId: string;
  readonly forecastId: string;
  readonly seriesId: string;
  readonly madeAt: number;
  readonly stepMs: number;
  readonly ts: number;
  readonly mean: number;
  readonly lower80: number;
  readonly upper80: number;
  readonly lower95: number;
  readonly upper95: number;
  readonly method: string;
  readonly position: string;
}

export interface ForecastErrorRow {
  readonly ruleId: string;
  readonly forecastId: string;
  readonly seriesId: string;
  readonly madeAt: number;
  readonly scoredAt: number;
  readonly ts: number;
  readonly mean: number;
  readonly actual: number;
  readonly error: number;
  readonly ape: number | null;
  readonly inside80: boolean;
  readonly inside95: boolean;
  readonly position: string;
}

const where = (q: ForecastRowQuery) =>
  `ts >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ts < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
   ${q.seriesIds ? 'AND series_id IN {ids:Array(UInt64)}' : ''} ${q.ruleId ? 'AND rule_id = {rule:String}' : ''}`;

const params = (q: ForecastRowQuery) => ({
  from: q.from.getTime(),
  to: q.to.getTime(),
  ids: q.seriesIds?.map((id) => BigInt(id)),
  rule: q.ruleId,
  limit: q.limit ?? 10_000,
  offset: q.offset ?? 0,
});

/** Forecast points whose bucket starts in `[from, to)`, by bucket then when made. */
export async function findForecastPoints(
  store: AnalyticsStore,
  q: ForecastRowQuery,
): Promise<ForecastPointRow[]> {
  const rows = await queryRows<Record<string, string | number>>(
    store,
    `SELECT rule_id AS ruleId, forecast_id AS forecastId, toString(series_id) AS seriesId,
            toUnixTimestamp64Milli(made_at) AS madeAtMs, step_ms AS stepMs, toUnixTimestamp64Milli(ts) AS tsMs,
            mean, lower80, upper80, lower95, upper95, method, toString(position) AS pos
       FROM ${store.table(FORECASTS_TABLE)} FINAL
      WHERE ${where(q)}
      ORDER BY series_id, ts, made_at, rule_id LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    params(q),
  );
  return rows.map((r) => ({
    ruleId: String(r.ruleId),
    forecastId: String(r.forecastId),
    seriesId: String(r.seriesId),
    madeAt: Number(r.madeAtMs),
    stepMs: Number(r.stepMs),
    ts: Number(r.tsMs),
    mean: Number(r.mean),
    lower80: Number(r.lower80),
    upper80: Number(r.upper80),
    lower95: Number(r.lower95),
    upper95: Number(r.upper95),
    method: String(r.method),
    position: String(r.pos),
  }));
}

/** Scored forecast points whose bucket starts in `[from, to)`, by bucket then when made. */
export async function findForecastErrors(
  store: AnalyticsStore,
  q: ForecastRowQuery,
): Promise<ForecastErrorRow[]> {
  const rows = await queryRows<Record<string, string | number | boolean | null>>(
    store,
    `SELECT rule_id AS ruleId, forecast_id AS forecastId, toString(series_id) AS seriesId,
            toUnixTimestamp64Milli(made_at) AS madeAtMs, toUnixTimestamp64Milli(scored_at) AS scoredAtMs,
            toUnixTimestamp64Milli(ts) AS tsMs, mean, actual, error, ape, inside80, inside95,
            toString(position) AS pos
       FROM ${store.table(FORECAST_ERRORS_TABLE)} FINAL
      WHERE ${where(q)}
      ORDER BY series_id, ts, made_at, rule_id LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    params(q),
  );
  return rows.map((r) => ({
    ruleId: String(r.ruleId),
    forecastId: String(r.forecastId),
    seriesId: String(r.seriesId),
    madeAt: Number(r.madeAtMs),
    scoredAt: Number(r.scoredAtMs),
    ts: Number(r.tsMs),
    mean: Number(r.mean),
    actual: Number(r.actual),
    error: Number(r.error),
    ape: r.ape === null ? null : Number(r.ape),
    inside80: r.inside80 === true || r.inside80 === 1 || r.inside80 === 'true',
    inside95: r.inside95 === true || r.inside95 === 1 || r.inside95 === 'true',
    position: String(r.pos),
  }));
}
