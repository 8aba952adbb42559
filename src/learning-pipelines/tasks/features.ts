import { hashRows } from '../../actors/model.training.js';
import type { DatasetSeries } from '../../learning/features/dataset.js';
import { datasetFromWindow } from '../../learning/features/from-series.js';
import { BlobRef, type BlobStore } from '../blobs.js';
import { datasetFor } from '../spec.js';
import { inputOf, type TaskFn } from './deps.js';
import { loadWindow } from './read.js';

/** The rows a features task built, as kept beside the log. */
export interface StoredRows {
  readonly features: number[][];
  readonly target: number[];
  readonly featureNames: string[];
  readonly times: number[];
  readonly series: readonly DatasetSeries[];
}

export const loadRows = (blobs: BlobStore, ref: unknown) => blobs.load(BlobRef.parse(ref)) as StoredRows;

/**
 * Features: the dataset recipe's derived columns and target over the window read, one row per step.
 * Rows at or before the window's start (read only so the first rows' lags are known) are left out.
 */
export const featuresTask: TaskFn = async (input, deps) => {
  const window = loadWindow(deps.blobs, inputOf(input, 'read').blob);
  const spec = datasetFor(input.definition, input.window);
  const dataset = datasetFromWindow(window, spec, deps.now());
  const keep = dataset.times!.map((t) => t > input.window.from);
  const rows: StoredRows = {
    features: dataset.features.filter((_, i) => keep[i]),
    target: dataset.target.filter((_, i) => keep[i]),
    featureNames: dataset.featureNames,
    times: dataset.times!.filter((_, i) => keep[i]),
    series: dataset.series,
  };
  if (rows.features.length < 3)
    throw new Error(
      `too few rows in the window to learn from (${rows.features.length}; dropped: ${JSON.stringify(dataset.dropped)})`,
    );
  const positives = dataset.targetKind === 'label' ? rows.target.filter((v) => v === 1).length : null;
  return {
    blob: deps.blobs.save(rows),
    rows: rows.features.length,
    featureNames: rows.featureNames,
    series: rows.series.map((s) => ({ column: s.column, seriesId: s.seriesId, name: s.name })),
    dropped: dataset.dropped,
    targetKind: dataset.targetKind,
    positives,
    hash: hashRows(rows),
  };
};
