import type { Column, Grid } from '../../learning/features/columns.js';
import type { DatasetSeries } from '../../learning/features/dataset.js';
import { readSeriesWindow, type SeriesWindow } from '../../learning/features/from-series.js';
import { type BlobRef, BlobRef as BlobRefSchema, type BlobStore } from '../blobs.js';
import { datasetFor } from '../spec.js';
import type { TaskFn } from './deps.js';

/** A window as JSON: NaN (a bucket without a sample) as null. */
interface StoredWindow {
  readonly grid: Grid;
  readonly series: readonly DatasetSeries[];
  readonly columns: readonly { name: string; values: (number | null)[] }[];
  readonly targetValues: (number | null)[] | null;
  readonly labelFacts: readonly number[] | null;
}

const encode = (values: Float64Array) => Array.from(values, (v) => (Number.isNaN(v) ? null : v));
const decode = (values: readonly (number | null)[]) => Float64Array.from(values, (v) => v ?? Number.NaN);

export function loadWindow(blobs: BlobStore, ref: unknown): SeriesWindow {
  const stored = blobs.load(BlobRefSchema.parse(ref)) as StoredWindow;
  return {
    grid: stored.grid,
    series: stored.series,
    columns: stored.columns.map((c): Column => ({ name: c.name, values: decode(c.values) })),
    targetValues: stored.targetValues ? decode(stored.targetValues) : null,
    labelFacts: stored.labelFacts,
  };
}

/** Read: the window of series (and the target's raw material) from ClickHouse, kept beside the log. */
export const readTask: TaskFn = async (input, deps) => {
  const spec = datasetFor(input.definition, input.window);
  const window = await readSeriesWindow(deps.analytics, spec, { path: 'definition.dataset' });
  const stored: StoredWindow = {
    grid: window.grid,
    series: window.series,
    columns: window.columns.map((c) => ({ name: c.name, values: encode(c.values) })),
    targetValues: window.targetValues ? encode(window.targetValues) : null,
    labelFacts: window.labelFacts,
  };
  const blob: BlobRef = deps.blobs.save(stored);
  return {
    blob,
    from: spec.from,
    to: spec.to,
    stepMs: spec.stepMs,
    buckets: window.grid.n,
    series: window.series.map((s) => ({ column: s.column, seriesId: s.seriesId, name: s.name })),
    labelFacts: window.labelFacts?.length ?? null,
  };
};
