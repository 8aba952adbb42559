import type { FittedModel, ModelSpec, SerializedModel, UpdateOptions } from '../algorithm.js';
import { type EvaluationReport, type EvaluationSpec, evaluate } from '../evaluation/evaluate.js';
import { type FittedFeatures, fitFeatures, isIdentity, transform } from '../features/pipeline.js';
import type { FeaturePipelineSpec } from '../features/pipeline-spec.js';
import { fitModel, loadModel, updateModel } from '../registry.js';
import { buffersOf, unpackData, unpackRows, type WireData, type WireRows } from './wire.js';

/**
 * The work a pool's workers do: fit a model (with its feature pipeline), evaluate one (holdout or
 * k-fold), predict a batch with a serialised model, move a serialised model on by one more batch. Pure and synchronous, so it runs the same in a
 * worker and, in tests, on the calling thread. Inputs are checked at the edge before they get here.
 */
export type LearningJob =
  | {
      readonly kind: 'fit';
      readonly data: WireData;
      readonly spec: ModelSpec;
      readonly features: FeaturePipelineSpec;
    }
  | {
      readonly kind: 'evaluate';
      readonly data: WireData;
      readonly spec: ModelSpec;
      readonly features: FeaturePipelineSpec;
      readonly evaluation: EvaluationSpec;
    }
  | {
      readonly kind: 'predict';
      readonly model: SerializedModel;
      /** The fitted pipeline the model was trained behind; null: rows go to the model as they are. */
      readonly features: FittedFeatures | null;
      readonly rows: WireRows;
    }
  | {
      /** An incremental update (see `updateModel`): the feature pipeline stays as fitted (frozen). */
      readonly kind: 'update';
      readonly model: SerializedModel;
      /** The fitted pipeline the model was trained behind; null: rows go to the model as they are. */
      readonly features: FittedFeatures | null;
      readonly data: WireData;
      readonly options: UpdateOptions;
    };

export type JobKind = LearningJob['kind'];

export interface FitResult {
  readonly model: SerializedModel;
  readonly features: FittedFeatures;
  readonly trainMs: number;
  readonly featureImportance: readonly { readonly name: string; readonly importance: number }[] | null;
}

export interface PredictResult {
  readonly predictions: Float64Array;
}

export type JobResult<K extends JobKind> = K extends 'fit' | 'update'
  ? FitResult
  : K extends 'evaluate'
    ? EvaluationReport
    : PredictResult;

export type JobOf<K extends JobKind> = Extract<LearningJob, { kind: K }>;

/** A pipeline that passes rows as they are, as `fit` fits one for an identity spec. */
const IDENTITY: FeaturePipelineSpec = { select: [], scale: 'none' };

/** A fit's or an update's result: the model serialised, its pipeline, importance named by feature. */
function fitResult(model: FittedModel, features: FittedFeatures, trainMs: number): FitResult {
  const weights = model.featureImportance?.();
  return {
    model: model.serialize(),
    features,
    trainMs,
    featureImportance: weights ? features.names.map((name, i) => ({ name, importance: weights[i]! })) : null,
  };
}

/** Runs a job; answers its result and the buffers to transfer back with it. */
export function runJob(job: LearningJob): { result: JobResult<JobKind>; transfer: ArrayBuffer[] } {
  switch (job.kind) {
    case 'fit': {
      const data = unpackData(job.data);
      const features = fitFeatures(data, job.features, { task: job.spec.task, seed: job.spec.seed ?? 0 });
      const x = isIdentity(job.features) ? data.features : transform(features, data.features);
      const started = performance.now();
      const model = fitModel({ features: x, target: data.target, featureNames: features.names }, job.spec);
      return { result: fitResult(model, features, performance.now() - started), transfer: [] };
    }
    case 'evaluate':
      return { result: evaluate(unpackData(job.data), job.spec, job.features, job.evaluation), transfer: [] };
    case 'predict': {
      const rows = unpackRows(job.rows);
      const model = loadModel(job.model);
      const predictions = Float64Array.from(
        model.predict(job.features ? transform(job.features, rows) : rows),
      );
      return { result: { predictions }, transfer: buffersOf(predictions) };
    }
    case 'update': {
      const data = unpackData(job.data);
      const features =
        job.features ?? fitFeatures(data, IDENTITY, { task: job.model.task, seed: job.options.seed ?? 0 });
      const x = job.features ? transform(job.features, data.features) : data.features;
      const started = performance.now();
      const model = updateModel(
        job.model,
        { features: x, target: data.target, featureNames: features.names },
        job.options,
      );
      return { result: fitResult(model, features, performance.now() - started), transfer: [] };
    }
  }
}
