import { createHash } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import type { Metrics, TrainingSpec } from '../domain/model/events.js';
import type { TrainInput, TrainOutput } from '../domain/model/training.js';
import type { ModelSpec } from '../learning/algorithm.js';
import {
  classificationMetrics,
  clusteringMetrics,
  regressionMetrics,
} from '../learning/evaluation/metrics.js';
import { buildDataset } from '../learning/features/build.js';
import type { Dataset } from '../learning/features/dataset.js';
import { DatasetSpec } from '../learning/features/dataset-spec.js';
import { FeaturePipelineSpec } from '../learning/features/pipeline-spec.js';
import { type FitResult, type JobOf, type PredictResult, runJob } from '../learning/pool/jobs.js';
import type { LearningPool } from '../learning/pool/pool.js';
import { buffersOf, packData, packRows } from '../learning/pool/wire.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import { type ArtifactStore, createArtifactStore } from './model.artifacts.js';

/** One training run: build the rows, fit on the earlier ones, judge on the held-out later ones, store. */
export type Trainer = (input: TrainInput, signal?: AbortSignal) => Promise<TrainOutput>;

export interface TrainerDeps {
  readonly fit: (job: JobOf<'fit'>, transfer: ArrayBuffer[]) => Promise<FitResult>;
  readonly predict: (job: JobOf<'predict'>, transfer: ArrayBuffer[]) => Promise<PredictResult>;
  /** Needed for datasets from series; without it only inline datasets train. */
  readonly analytics?: AnalyticsStore;
  readonly artifacts: ArtifactStore;
  readonly now?: () => number;
}

/** sha256 of the rows, targets and times a version was made from. */
export function hashRows(dataset: Pick<Dataset, 'features' | 'target' | 'times'>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(dataset.features));
  hash.update('|');
  hash.update(JSON.stringify(dataset.target));
  hash.update('|');
  hash.update(JSON.stringify(dataset.times));
  return hash.digest('hex');
}

/** What the learning core fits, from a training recipe (its algorithm, implementation, params, seed). */
export const modelSpecOf = (
  spec: Pick<TrainingSpec, 'algorithm' | 'task' | 'implementation' | 'params' | 'seed'>,
): ModelSpec => ({
  algorithm: spec.algorithm,
  task: spec.task,
  ...(spec.implementation ? { implementation: spec.implementation } : {}),
  params: spec.params,
  seed: spec.seed,
});

/** Scores predictions against the truth with the task's metrics (as the evaluation core does). */
export function scoreTask(
  task: ModelSpec['task'],
  rows: readonly (readonly number[])[],
  truth: readonly number[],
  predicted: readonly number[],
): Metrics {
  if (task === 'regression') return { ...regressionMetrics(truth, predicted) };
  if (task === 'classification') return { ...classificationMetrics(truth, predicted, null).metrics };
  return { ...clusteringMetrics(rows, predicted) };
}

const failed = (version: number, reason: string): TrainOutput => ({
  type: 'trainingFailed',
  version,
  reason: reason.slice(0, 2000),
});

export function createTrainer(deps: TrainerDeps): Trainer {
  const now = deps.now ?? Date.now;
  return async ({ version, spec }) => {
    try {
      const datasetSpec = DatasetSpec.parse(spec.dataset);
      if (datasetSpec.fromSeries && !deps.analytics)
        return failed(version, 'no analytics store here to read series from');
      const dataset = await buildDataset(deps.analytics as AnalyticsStore, datasetSpec, {
        now: now(),
        path: 'dataset',
      });
      const n = dataset.features.length;
      const testRows = Math.round(n * spec.testFraction);
      const trainRows = n - testRows;
      if (trainRows < 2 || testRows < 1)
        return failed(
          version,
          `too few rows to train and hold out (${n} rows; ${JSON.stringify(dataset.dropped)} dropped)`,
        );
      const modelSpec = modelSpecOf(spec);
      const train = {
        features: dataset.features.slice(0, trainRows),
        target: spec.task === 'clustering' ? [] : dataset.target.slice(0, trainRows),
        featureNames: dataset.featureNames,
      };
      const data = packData(train);
      const fit = await deps.fit(
        { kind: 'fit', data, spec: modelSpec, features: FeaturePipelineSpec.parse(spec.features) },
        buffersOf(data.x.values, data.target),
      );
      const holdout = dataset.features.slice(trainRows);
      const rows = packRows(holdout);
      const { predictions } = await deps.predict(
        { kind: 'predict', model: fit.model, features: fit.features, rows },
        buffersOf(rows.values),
      );
      const metrics = scoreTask(spec.task, holdout, dataset.target.slice(trainRows), [...predictions]);
      const artifact = deps.artifacts.save({ model: fit.model, features: fit.features });
      const fromSeries = datasetSpec.fromSeries;
      return {
        type: 'trainingSucceeded',
        version,
        algorithm: fit.model.algorithm,
        implementation: fit.model.implementation,
        params: fit.model.params,
        featureNames: [...dataset.featureNames],
        data: {
          source: fromSeries ? 'series' : 'inline',
          series: dataset.series.map((s) => ({ column: s.column, seriesId: s.seriesId, name: s.name })),
          from: fromSeries?.from ?? null,
          to: fromSeries?.to ?? null,
          stepMs: fromSeries?.stepMs ?? null,
          rows: n,
          trainRows,
          testRows,
          trainedUntil: dataset.times ? dataset.times[trainRows - 1]! : null,
          hash: hashRows(dataset),
        },
        evaluation: { method: 'holdout', testRows, metrics },
        trainMs: fit.trainMs,
        artifact,
      };
    } catch (error) {
      if (error instanceof ValidationError || error instanceof Error)
        return failed(version, error.message || error.name);
      throw error;
    }
  };
}

/** Fits on the calling thread (tests, and hosts without a pool): inline datasets, inline artifacts. */
export function inProcessTrainer(): Trainer {
  return createTrainer({
    fit: async (job) => runJob(job).result as FitResult,
    predict: async (job) => runJob(job).result as PredictResult,
    artifacts: createArtifactStore(null),
  });
}

/** The service's trainer: the worker pool fits and predicts, ClickHouse gives the series. */
export function poolTrainer(deps: {
  pool: LearningPool;
  analytics: AnalyticsStore;
  artifacts: ArtifactStore;
}): Trainer {
  return createTrainer({
    fit: (job, transfer) => deps.pool.run<'fit'>(job, transfer),
    predict: (job, transfer) => deps.pool.run<'predict'>(job, transfer),
    analytics: deps.analytics,
    artifacts: deps.artifacts,
  });
}
