import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import { type Dataset, NO_DROPS } from './dataset.js';
import type { DatasetSpec, InlineDatasetSpec } from './dataset-spec.js';
import { datasetFromSeries } from './from-series.js';

/** Inline rows as a dataset: every row kept (the edge has checked them), names `x0, x1, …` by default. */
export function datasetFromInline(spec: InlineDatasetSpec): Dataset {
  const width = spec.features[0]?.length ?? 0;
  return {
    features: spec.features,
    target: spec.target ?? [],
    featureNames: spec.featureNames ?? Array.from({ length: width }, (_, i) => `x${i}`),
    times: null,
    candidates: spec.features.length,
    dropped: NO_DROPS,
    series: [],
    targetKind: spec.target ? 'inline' : 'none',
  };
}

/** The dataset a spec describes; errors name the field under `path` (e.g. `input.dataset`). */
export function buildDataset(
  store: AnalyticsStore,
  spec: DatasetSpec,
  options: { now: number; path: string },
): Promise<Dataset> {
  if (spec.inline) return Promise.resolve(datasetFromInline(spec.inline));
  return datasetFromSeries(store, spec.fromSeries!, { now: options.now, path: `${options.path}.fromSeries` });
}
