import { ValidationError } from '../../domain/errors.js';
import { LABEL_NAME } from '../../domain/metrics/identity.js';
import type { Labels } from '../../domain/metrics/kinds.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import type { SeriesInfo } from './types.js';

export const MATCH_OPS = ['eq', 'neq', 'regex', 'notRegex'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/**
 * A condition on one label. A series without the label has it as the empty string (as in Prometheus).
 * Regular expressions are RE2 (ClickHouse `match`) and must match the whole value.
 */
export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** Which series: every condition given must hold (none given: all series). */
export interface SeriesSelector {
  readonly seriesId?: string;
  readonly seriesIds?: readonly string[];
  /** The metric name, exactly. */
  readonly name?: string;
  /** Exact label values: shorthand for `eq` matchers. */
  readonly labels?: Labels;
  readonly matchers?: readonly LabelMatcher[];
  /** A case-insensitive substring of the name or of any label value. */
  readonly text?: string;
}

/** At most this many series per range, aggregation or export (more is an error, not a truncation). */
export const MAX_SERIES = 10_000;

const SERIES_ID = /^\d{1,20}$/;
const MAX_UINT64 = 2n ** 64n - 1n;

export interface Sql {
  readonly where: string;
  readonly params: Record<string, unknown>;
}

/** The selector's matchers, its `labels` shorthand included. */
function matchersOf(selector: SeriesSelector): LabelMatcher[] {
  return [
    ...Object.entries(selector.labels ?? {}).map(([label, value]) => ({ label, op: 'eq' as const, value })),
    ...(selector.matchers ?? []),
  ];
}

const idsOf = (selector: SeriesSelector): string[] | null =>
  selector.seriesId === undefined && selector.seriesIds === undefined
    ? null
    : [...(selector.seriesId === undefined ? [] : [selector.seriesId]), ...(selector.seriesIds ?? [])];

/** Anchored as Prometheus anchors its matchers: the expression must match the whole value. */
const anchored = (re: string) => `^(?:${re})$`;

/**
 * Checks a selector: series ids are decimal UInt64, label names well formed, regular expressions
 * compile (asked of ClickHouse itself, whose RE2 is the one that will run them). Issues name the
 * field under `path` (e.g. `selector.matchers[1].value`).
 */
export async function checkSelector(store: AnalyticsStore, selector: SeriesSelector, path: string) {
  const issues: { path: string; message: string }[] = [];
  for (const id of idsOf(selector) ?? [])
    if (!SERIES_ID.test(id) || BigInt(id) > MAX_UINT64)
      issues.push({ path: `${path}.seriesIds`, message: `'${id}' is not a decimal series id` });
  const matchers = selector.matchers ?? [];
  for (const key of Object.keys(selector.labels ?? {}))
    if (!LABEL_NAME.test(key))
      issues.push({ path: `${path}.labels`, message: `invalid label name '${key}'` });
  for (const [i, m] of matchers.entries()) {
    if (!LABEL_NAME.test(m.label))
      issues.push({ path: `${path}.matchers[${i}].label`, message: `invalid label name '${m.label}'` });
    if (m.op !== 'regex' && m.op !== 'notRegex') continue;
    try {
      await queryRows(store, "SELECT match('', {re:String}) AS ok", { re: anchored(m.value) });
    } catch (error) {
      const reason = (error as Error).message.match(/error: ([^:]+)/)?.[1] ?? 'does not compile';
      issues.push({
        path: `${path}.matchers[${i}].value`,
        message: `not a valid RE2 regular expression (${reason})`,
      });
    }
  }
  if (issues.length) throw new ValidationError(`${issues[0]!.path}: ${issues[0]!.message}`, issues);
}

/**
 * The selector as conditions on the `series` catalogue (its columns unqualified). Parameter names
 * start with `prefix`, so that several selectors (or a selector and other parameters) share a query.
 */
export function catalogueWhere(selector: SeriesSelector, prefix = ''): Sql {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  const p = (name: string) => `${prefix}${name}`;
  const ids = idsOf(selector);
  if (ids) {
    conditions.push(`series_id IN {${p('ids')}:Array(UInt64)}`);
    params[p('ids')] = ids.map((id) => BigInt(id));
  }
  if (selector.name !== undefined) {
    conditions.push(`name = {${p('name')}:String}`);
    params[p('name')] = selector.name;
  }
  matchersOf(selector).forEach((m, i) => {
    params[p(`k${i}`)] = m.label;
    params[p(`v${i}`)] = m.op === 'regex' || m.op === 'notRegex' ? anchored(m.value) : m.value;
    const label = `labels[{${p(`k${i}`)}:String}]`;
    const value = `{${p(`v${i}`)}:String}`;
    conditions.push(
      m.op === 'eq'
        ? `${label} = ${value}`
        : m.op === 'neq'
          ? `${label} != ${value}`
          : `${m.op === 'notRegex' ? 'NOT ' : ''}match(${label}, ${value})`,
    );
  });
  if (selector.text !== undefined && selector.text !== '') {
    const text = `{${p('text')}:String}`;
    conditions.push(
      `(positionCaseInsensitiveUTF8(name, ${text}) > 0 OR arrayExists((x) -> positionCaseInsensitiveUTF8(x, ${text}) > 0, mapValues(labels)))`,
    );
    params[p('text')] = selector.text;
  }
  return { where: conditions.length ? conditions.join(' AND ') : '1', params };
}

/** The ids a selector gives when it names series by id only (then no catalogue is needed to find them). */
export function givenIds(selector: SeriesSelector): string[] | null {
  const other = Object.entries(selector).some(
    ([key, value]) => value !== undefined && key !== 'seriesId' && key !== 'seriesIds',
  );
  return other ? null : idsOf(selector);
}

/**
 * A condition on `series_id` that picks the series a (checked) selector names, for a samples or rollup
 * query run beside `resolveSeries` rather than after it: the given ids as they are, or the catalogue as a
 * subquery (one set, built once: never a join onto sample rows), at most `max + 1` of them.
 */
export function seriesFilter(store: AnalyticsStore, selector: SeriesSelector, max = MAX_SERIES): Sql {
  const ids = givenIds(selector);
  if (ids)
    return {
      where: 'series_id IN {sel_given:Array(UInt64)}',
      params: { sel_given: ids.map((id) => BigInt(id)) },
    };
  const sql = catalogueWhere(selector, 'sel_');
  return {
    where: `series_id IN (SELECT series_id FROM ${store.table('series')} FINAL WHERE ${sql.where} ORDER BY series_id LIMIT {sel_max:UInt32})`,
    params: { ...sql.params, sel_max: max + 1 },
  };
}

export const SERIES_COLUMNS = 'toString(series_id) AS seriesId, name, family, kind, role, unit, labels';

/**
 * Series definitions by id, per store, as the catalogue gave them. A definition never changes (the id
 * is a hash of name and labels; see the projection), so a definition once read stays true; what the
 * cache cannot tell is whether a series exists — an id not in it is asked of the catalogue.
 */
const known = new WeakMap<AnalyticsStore, Map<string, SeriesInfo>>();
const MAX_KNOWN = 100_000;

function remember(store: AnalyticsStore, rows: readonly SeriesInfo[]): void {
  let map = known.get(store);
  if (!map || map.size + rows.length > MAX_KNOWN) {
    map = new Map();
    known.set(store, map);
  }
  for (const row of rows) map.set(row.seriesId, row);
}

/** Forgets series this process read (they were deleted): the next selector of them asks the catalogue. */
export function forgetSeries(store: AnalyticsStore, seriesIds: readonly string[]): void {
  const map = known.get(store);
  if (map) for (const id of seriesIds) map.delete(id);
}

/**
 * Like `resolveSeries`, but a selector of ids only whose every series this process has read from the
 * catalogue before is answered without asking it again (in id order, as the catalogue answers). Meant
 * for queries over samples: a series gone from the catalogue (a rebuild, before its batches are
 * replayed) has no samples either, and series without samples are left out of every answer.
 */
export async function resolveKnown(
  store: AnalyticsStore,
  selector: SeriesSelector,
  path: string,
  max = MAX_SERIES,
): Promise<SeriesInfo[]> {
  const ids = givenIds(selector);
  const map = known.get(store);
  if (ids && map && ids.length <= max && ids.every((id) => map.has(id))) {
    await checkSelector(store, selector, path);
    return [...new Set(ids)]
      .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))
      .map((id) => map.get(id)!);
  }
  return resolveSeries(store, selector, path, max);
}

/**
 * The series a selector names, by id, checked first (see `checkSelector`). More than `max` is an
 * error naming `path`: a query over them would be cut short otherwise.
 */
export async function resolveSeries(
  store: AnalyticsStore,
  selector: SeriesSelector,
  path: string,
  max = MAX_SERIES,
  checked = false,
): Promise<SeriesInfo[]> {
  if (!checked) await checkSelector(store, selector, path);
  const sql = catalogueWhere(selector);
  const rows = await queryRows<SeriesInfo>(
    store,
    `SELECT ${SERIES_COLUMNS} FROM ${store.table('series')} FINAL
      WHERE ${sql.where} ORDER BY series_id LIMIT {max:UInt32}`,
    { ...sql.params, max: max + 1 },
  );
  if (rows.length > max) {
    const message = `matches more than ${max} series; narrow it with a name or label matchers`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  remember(store, rows);
  return rows;
}
