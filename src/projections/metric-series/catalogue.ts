import { ValidationError } from '../../domain/errors.js';
import { LABEL_NAME } from '../../domain/metrics/identity.js';
import type { Labels } from '../../domain/metrics/kinds.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { catalogueWhere, checkSelector, SERIES_COLUMNS, type SeriesSelector } from './selector.js';
import type { SeriesInfo } from './types.js';

/** One page of a search, by series id: after a cursor (ascending) or, inverted, before one (descending). */
export interface SeriesPage {
  readonly after?: string;
  readonly before?: string;
  readonly limit: number;
  readonly inverted?: boolean;
}

const CURSOR = /^\d{1,20}$/;

function cursor(value: string | undefined, path: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!CURSOR.test(value) || BigInt(value) >= 2n ** 64n) {
    const message = `'${value}' is not a cursor this connection gave`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  return BigInt(value);
}

/** The series a selector names, one page at a time in series id order (the cursor is the id). */
export async function searchSeries(
  store: AnalyticsStore,
  selector: SeriesSelector,
  page: SeriesPage,
): Promise<SeriesInfo[]> {
  await checkSelector(store, selector, 'selector');
  const after = cursor(page.after, 'after');
  const before = cursor(page.before, 'before');
  const sql = catalogueWhere(selector);
  return queryRows<SeriesInfo>(
    store,
    `SELECT ${SERIES_COLUMNS} FROM ${store.table('series')} FINAL
      WHERE ${sql.where}
        ${after === undefined ? '' : 'AND series_id > {after:UInt64}'}
        ${before === undefined ? '' : 'AND series_id < {before:UInt64}'}
      ORDER BY series_id ${page.inverted ? 'DESC' : 'ASC'}
      LIMIT {limit:UInt32}`,
    {
      ...sql.params,
      ...(after === undefined ? {} : { after }),
      ...(before === undefined ? {} : { before }),
      limit: page.limit,
    },
  );
}

function tooMany(limit: number, what: string): never {
  const message = `there are more than ${limit} ${what}; narrow the selector or raise limit`;
  throw new ValidationError(`limit: ${message}`, [{ path: 'limit', message }]);
}

/** The label names the selected series have, sorted; more than `limit` is an error. */
export async function labelNames(
  store: AnalyticsStore,
  selector: SeriesSelector,
  limit: number,
): Promise<string[]> {
  await checkSelector(store, selector, 'selector');
  const sql = catalogueWhere(selector);
  const rows = await queryRows<{ label: string }>(
    store,
    `SELECT DISTINCT arrayJoin(mapKeys(labels)) AS label FROM ${store.table('series')} FINAL
      WHERE ${sql.where} ORDER BY label LIMIT {limit:UInt32}`,
    { ...sql.params, limit: limit + 1 },
  );
  if (rows.length > limit) tooMany(limit, 'label names');
  return rows.map((row) => row.label);
}

/** The values one label takes on the selected series that have it, sorted; more than `limit` is an error. */
export async function labelValues(
  store: AnalyticsStore,
  label: string,
  selector: SeriesSelector,
  limit: number,
): Promise<string[]> {
  if (!LABEL_NAME.test(label)) {
    const message = `invalid label name '${label}'`;
    throw new ValidationError(`label: ${message}`, [{ path: 'label', message }]);
  }
  await checkSelector(store, selector, 'selector');
  const sql = catalogueWhere(selector);
  const rows = await queryRows<{ labelValue: string }>(
    store,
    `SELECT DISTINCT labels[{label:String}] AS labelValue FROM ${store.table('series')} FINAL
      WHERE ${sql.where} AND mapContains(labels, {label:String}) ORDER BY labelValue LIMIT {limit:UInt32}`,
    { ...sql.params, label, limit: limit + 1 },
  );
  if (rows.length > limit) tooMany(limit, `values of ${label}`);
  return rows.map((row) => row.labelValue);
}

/** The catalogue by metric name and exact labels, by name then id (at most `limit`, default 1,000). */
export async function findSeries(
  store: AnalyticsStore,
  filter: { name?: string; labels?: Labels; limit?: number },
): Promise<SeriesInfo[]> {
  const selector: SeriesSelector =
    filter.name === undefined ? {} : { name: filter.name, labels: filter.labels ?? {} };
  await checkSelector(store, selector, 'filter');
  const sql = catalogueWhere(selector);
  return queryRows<SeriesInfo>(
    store,
    `SELECT ${SERIES_COLUMNS} FROM ${store.table('series')} FINAL
      WHERE ${sql.where} ORDER BY name, series_id LIMIT {limit:UInt32}`,
    { ...sql.params, limit: Math.min(filter.limit ?? 1000, 100_000) },
  );
}
