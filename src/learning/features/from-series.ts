import { ValidationError } from '../../domain/errors.js';
import { findAlertTransitions } from '../../projections/alerts/index.js';
import { bucketCount, bucketStart } from '../../projections/metric-series/plan.js';
import { MAX_POINT_LIMIT, type SeriesRange, seriesRange } from '../../projections/metric-series/range.js';
import { resolveSeries, type SeriesSelector } from '../../projections/metric-series/selector.js';
import { findAnomalies } from '../../projections/pipeline-findings/queries.js';
import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import { assembleRows, type Column, deriveColumns, type Grid, rowTime } from './columns.js';
import type { Dataset, DatasetSeries } from './dataset.js';
import { DATASET_LIMITS, type LabelSpec, type SelectorSpec, type SeriesDatasetSpec } from './dataset-spec.js';
import { labelKnownAt, labelsAt } from './labels.js';

/**
 * A dataset from metric series in ClickHouse: each selected series averaged into the step's buckets
 * (the series API's `seriesRange`, served by rollups where they fit), one column per series, derived
 * features (see `columns.ts`), and a target: a label from stored alerts or anomalies (`labels.ts`) or
 * a series' later value.
 */

/** Facts read at most for one label (alert transitions or anomalies). */
const MAX_FACTS = 1_000_000;
const PAGE = 10_000;

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

/** A dataset's series selector as the series queries take it. */
export const selectorOf = (s: SelectorSpec): SeriesSelector => ({
  ...(s.seriesIds ? { seriesIds: s.seriesIds } : {}),
  ...(s.name !== undefined ? { name: s.name } : {}),
  ...(s.matchers ? { matchers: s.matchers } : {}),
  ...(s.text !== undefined ? { text: s.text } : {}),
});

/** `name{k=v,…}` (labels sorted by name), or the name alone. */
export function columnName(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

/** The series API's buckets for one selector; its errors re-named to the dataset's field. */
async function ranges(
  store: AnalyticsStore,
  selector: SelectorSpec,
  spec: SeriesDatasetSpec,
  path: string,
): Promise<SeriesRange[]> {
  try {
    return await seriesRange(store, {
      selector: selectorOf(selector),
      from: spec.from,
      to: spec.to,
      stepMs: spec.stepMs,
      limit: MAX_POINT_LIMIT,
    });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issues = error.issues.map((i) => ({
      path: i.path === 'limit' ? `${path}` : i.path.replace(/^selector/, path),
      message: i.path === 'limit' ? `${i.message} (use a larger step or a shorter range)` : i.message,
    }));
    throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
}

function dense(range: SeriesRange, grid: Grid): Float64Array {
  const values = new Float64Array(grid.n).fill(Number.NaN);
  for (const b of range.buckets ?? []) values[(b.ts - grid.first) / grid.stepMs] = b.avg;
  return values;
}

/** The times of the facts a label counts, in `[from, to)`. */
async function factTimes(
  store: AnalyticsStore,
  label: LabelSpec,
  seriesIds: readonly string[],
  from: number,
  to: number,
  path: string,
): Promise<number[]> {
  let ids = seriesIds;
  if (label.selector) {
    ids = (await resolveSeries(store, selectorOf(label.selector), `${path}.selector`)).map((s) => s.seriesId);
    if (!ids.length) invalid(`${path}.selector`, 'selects no series');
  }
  const times: number[] = [];
  const page = async <R>(read: (offset: number) => Promise<R[]>, keep: (r: R) => number | null) => {
    for (let offset = 0; ; offset += PAGE) {
      const rows = await read(offset);
      for (const r of rows) {
        const t = keep(r);
        if (t !== null) times.push(t);
      }
      if (times.length > MAX_FACTS) invalid(path, `more than ${MAX_FACTS} facts: use a shorter range`);
      if (rows.length < PAGE) return;
    }
  };
  const range = { from: new Date(from), to: new Date(to), limit: PAGE };
  if (label.kind === 'alert') {
    const wanted = new Set(ids);
    await page(
      (offset) =>
        findAlertTransitions(store, { ...range, offset, ...(label.rule ? { rule: label.rule } : {}) }),
      (r) => (r.transition === 'alertFired' && wanted.has(r.seriesId) ? r.at : null),
    );
  } else {
    for (const seriesId of ids)
      await page(
        (offset) =>
          findAnomalies(store, {
            ...range,
            offset,
            seriesId,
            ...(label.pipelineId ? { pipelineId: label.pipelineId } : {}),
            ...(label.minScore !== undefined ? { minScore: label.minScore } : {}),
          }),
        (r) => r.ts,
      );
  }
  return times;
}

/**
 * What one read of a window gives: the grid, one dense column per selected series (NaN where a bucket
 * has no sample), and the raw material of the target (the target series' column, unshifted, or the
 * times of the facts a label counts). Deriving features from it (`datasetFromWindow`) needs no store,
 * so a learning pipeline keeps it as its read task's output and builds features from it later.
 */
export interface SeriesWindow {
  readonly grid: Grid;
  readonly series: readonly DatasetSeries[];
  readonly columns: readonly Column[];
  readonly targetValues: Float64Array | null;
  readonly labelFacts: readonly number[] | null;
}

/** Reads the window `spec` describes from ClickHouse. Errors name the field under `path`. */
export async function readSeriesWindow(
  store: AnalyticsStore,
  spec: SeriesDatasetSpec,
  options: { path?: string } = {},
): Promise<SeriesWindow> {
  const path = options.path ?? 'fromSeries';
  const grid: Grid = {
    first: bucketStart(spec.from, spec.stepMs),
    stepMs: spec.stepMs,
    n: bucketCount(spec.from, spec.to, spec.stepMs),
  };
  const series: DatasetSeries[] = [];
  const columns: Column[] = [];
  const seen = new Set<string>();
  for (const [i, selector] of spec.series.entries()) {
    const found = await ranges(store, selector, spec, `${path}.series.${i}`);
    if (!found.length) invalid(`${path}.series.${i}`, 'selects no series with samples in [from, to)');
    for (const r of found) {
      if (seen.has(r.series.seriesId)) continue;
      seen.add(r.series.seriesId);
      const column = columnName(r.series.name, r.series.labels);
      series.push({ column, seriesId: r.series.seriesId, name: r.series.name, labels: r.series.labels });
      columns.push({ name: column, values: dense(r, grid) });
    }
    if (series.length > DATASET_LIMITS.seriesColumns)
      invalid(`${path}.series`, `select at most ${DATASET_LIMITS.seriesColumns} series in all`);
  }
  let targetValues: Float64Array | null = null;
  let labelFacts: number[] | null = null;
  if (spec.target) {
    const found = await ranges(store, spec.target.series, spec, `${path}.target.series`);
    if (found.length !== 1)
      invalid(
        `${path}.target.series`,
        `selects ${found.length} series with samples in [from, to); a target is exactly one`,
      );
    targetValues = dense(found[0]!, grid);
  } else if (spec.label) {
    const label = spec.label;
    const from = rowTime(grid, 0) + 1;
    const to = rowTime(grid, grid.n - 1) + label.horizonMs + 1;
    labelFacts = await factTimes(
      store,
      label,
      series.map((s) => s.seriesId),
      from,
      to,
      `${path}.label`,
    );
  }
  return { grid, series, columns, targetValues, labelFacts };
}

/**
 * The dataset of a window read with the same `spec`: derived features, the target (the target series
 * `horizonSteps` later, or labels from the facts), rows kept when all is known. `now` decides which
 * labels are known (a row whose horizon reaches past now is dropped and counted as `labelUnknown`).
 */
export function datasetFromWindow(window: SeriesWindow, spec: SeriesDatasetSpec, now: number): Dataset {
  const { grid } = window;
  const columns = deriveColumns(window.columns, grid, spec);
  let target: Float64Array | null = null;
  let known: (i: number) => boolean = () => true;
  if (spec.target && window.targetValues) {
    const values = window.targetValues;
    const h = spec.target.horizonSteps;
    target = new Float64Array(grid.n).fill(Number.NaN);
    for (let i = 0; i + h < grid.n; i++) target[i] = values[i + h]!;
  } else if (spec.label && window.labelFacts) {
    const horizon = spec.label.horizonMs;
    const times = Array.from({ length: grid.n }, (_, i) => rowTime(grid, i));
    target = labelsAt(times, window.labelFacts, horizon);
    known = (i) => labelKnownAt(times[i]!, horizon, now);
  }
  const rows = assembleRows(columns, grid, target, known);
  return {
    features: rows.features,
    target: rows.target,
    featureNames: columns.map((c) => c.name),
    times: rows.times,
    candidates: grid.n,
    dropped: rows.dropped,
    series: window.series,
    targetKind: spec.target ? 'series' : spec.label ? 'label' : 'none',
  };
}

/** Builds the dataset `spec` describes: the window read, then its features derived. */
export async function datasetFromSeries(
  store: AnalyticsStore,
  spec: SeriesDatasetSpec,
  options: { now: number; path?: string },
): Promise<Dataset> {
  const window = await readSeriesWindow(store, spec, options.path ? { path: options.path } : {});
  return datasetFromWindow(window, spec, options.now);
}
