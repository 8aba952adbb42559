import type { ModelSpec, SerializedModel } from '../algorithm.js';
import { type EvaluationReport, type EvaluationSpec, evaluate } from '../evaluation/evaluate.js';
import { type FittedFeatures, fitFeatures, isIdentity, transform } from '../features/pipeline.js';
import type { FeaturePipelineSpec } from '../features/pipeline-spec.js';
import { fitModel, loadModel } from '../registry.js';
import { buffersOf, unpackData, unpackRows, type WireData, type WireRows } from './wire.js';

/**
 * The work a pool's workers do: fit a model (with its feature pipeline), evaluate one (holdout or
 * k-fold), predict a batch with a serialised model. Pure and synchronous, so it runs the same in a
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

export type JobResult<K extends JobKind> = K extends 'fit'
  ? FitResult
  : K extends 'evaluate'
    ? EvaluationReport
    : PredictResult;

export type JobOf<K extends JobKind> = Extract<LearningJob, { kind: K }>;

/** Runs a job; answers its result and the buffers to transfer back with it. */
export function runJob(job: LearningJob): { result: JobResult<JobKind>; transfer: ArrayBuffer[] } {
  switch (job.kind) {
    case 'fit': {
      const data = unpackData(job.data);
      const features = fitFeatures(data, job.features, { task: job.spec.task, seed: job.spec.seed ?? 0 });
      const x = isIdentity(job.features) ? data.features : transform(features, data.features);
      const started = performance.now();
      const model = fitModel({ features: x, target: data.target, featureNames: features.names }, job.spec);
      const trainMs = performance.now() - started;
      const weights = model.featureImportance?.();
      return {
        result: {
          model: model.serialize(),
          features,
          trainMs,
          featureImportance: weights
            ? features.names.map((name, i) => ({ name, importance: weights[i]! }))
            : null,
        },
        transfer: [],
      };
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
  }
}
