import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import type { ModelSpec, TrainingData } from '../algorithm.js';
import { fitFeatures, isIdentity, transform } from '../features/pipeline.js';
import type { FeaturePipelineSpec } from '../features/pipeline-spec.js';
import { fitModel } from '../registry.js';
import {
  type ConfusionMatrix,
  classificationMetrics,
  clusteringMetrics,
  confusionMatrix,
  type Metrics,
  meanMetrics,
  regressionMetrics,
} from './metrics.js';
import { holdout, kFolds, type Split } from './split.js';

/**
 * A model judged on rows it did not train on: a holdout split or k-fold cross-validation, seeded. In
 * each fold the feature pipeline (scaling, selection) is fitted on the fold's training rows only, then
 * applied to its test rows, so nothing of the test rows leaks into what the model learns.
 */

export const EvaluationSpec = z
  .object({
    method: z.enum(['holdout', 'kfold']),
    folds: z.number().int().min(2).max(50).default(5),
    testFraction: z.number().gt(0).lt(1).default(0.2),
    seed: z.number().int().default(0),
    /** Keep class shares in every split; default: true for classification. */
    stratify: z.boolean().optional(),
  })
  .strict();
export type EvaluationSpec = z.output<typeof EvaluationSpec>;

export interface FoldReport {
  readonly fold: number;
  readonly trainRows: number;
  readonly testRows: number;
  /** Fitting the model (the feature pipeline excluded), in ms. */
  readonly trainMs: number;
  readonly metrics: Metrics;
  /** The features the model saw in this fold, after the pipeline. */
  readonly features: readonly string[];
}

export interface EvaluationReport {
  readonly task: 'classification' | 'regression' | 'clustering';
  readonly method: EvaluationSpec['method'];
  readonly algorithm: string;
  readonly implementation: string;
  readonly rows: number;
  readonly folds: readonly FoldReport[];
  /** The mean of each metric over the folds (holdout: the one split's). */
  readonly mean: Metrics;
  /** Sum over the folds. */
  readonly trainMs: number;
  /** Classification: over every fold's test rows (k-fold: every row once). */
  readonly confusion: ConfusionMatrix | null;
  /** By feature name, the mean over folds (0 in a fold that did not keep it); most important first. */
  readonly featureImportance: readonly { readonly name: string; readonly importance: number }[] | null;
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

const pick = <T>(items: readonly T[], idx: readonly number[]) => idx.map((i) => items[i]!);

export function evaluate(
  data: TrainingData,
  spec: ModelSpec,
  features: FeaturePipelineSpec,
  evaluation: EvaluationSpec,
  now: () => number = () => performance.now(),
): EvaluationReport {
  const task = spec.task;
  const n = data.features.length;
  // Clustering has no target: it is judged on how held-out rows fall into the clusters.
  if (task !== 'clustering' && data.target.length !== n)
    invalid('dataset.target', `needs one target per row (${n} rows)`);
  if (task === 'classification' && data.target.some((y) => !Number.isInteger(y)))
    invalid('dataset.target', 'classification needs whole-number class labels');
  const stratify = evaluation.stratify ?? task === 'classification';
  if (stratify && task !== 'classification') invalid('evaluation.stratify', 'applies to classification only');
  const labels = stratify ? data.target : null;
  let splits: Split[];
  try {
    splits =
      evaluation.method === 'kfold'
        ? kFolds(n, evaluation.folds, evaluation.seed, labels)
        : [holdout(n, evaluation.testFraction, evaluation.seed, labels)];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issues = error.issues.map((i) => ({ path: `evaluation.${i.path}`, message: i.message }));
    throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  const names = data.featureNames ? [...data.featureNames] : undefined;
  const folds: FoldReport[] = [];
  const truths: number[] = [];
  const predictions: number[] = [];
  const knownClasses = new Set<number>();
  const importance = new Map<string, number>();
  let hasImportance = true;
  let implementation = spec.implementation ?? '';
  for (const [f, split] of splits.entries()) {
    const train = {
      features: pick(data.features, split.train),
      target: task === 'clustering' ? [] : pick(data.target, split.train),
      ...(names ? { featureNames: names } : {}),
    };
    const fitted = fitFeatures(train, features, { task, seed: spec.seed ?? evaluation.seed });
    const identity = isIdentity(features);
    const xTrain = identity ? train.features : transform(fitted, train.features);
    const xTest = identity
      ? pick(data.features, split.test)
      : transform(fitted, pick(data.features, split.test));
    const yTest = task === 'clustering' ? [] : pick(data.target, split.test);
    const started = now();
    const model = fitModel({ features: xTrain, target: train.target, featureNames: fitted.names }, spec);
    const trainMs = now() - started;
    implementation = model.implementation;
    const predicted = model.predict(xTest);
    let metrics: Metrics;
    if (task === 'classification') {
      const proba = model.predictProba ? model.predictProba(xTest) : null;
      metrics = classificationMetrics(yTest, predicted, proba, model.classes ?? []).metrics;
      truths.push(...yTest);
      predictions.push(...predicted);
      for (const c of model.classes ?? []) knownClasses.add(c);
    } else if (task === 'regression') metrics = regressionMetrics(yTest, predicted);
    else metrics = clusteringMetrics(xTest, predicted);
    const weights = model.featureImportance?.();
    if (weights)
      for (const [i, name] of fitted.names.entries())
        importance.set(name, (importance.get(name) ?? 0) + weights[i]!);
    else hasImportance = false;
    folds.push({
      fold: f,
      trainRows: split.train.length,
      testRows: split.test.length,
      trainMs,
      metrics,
      features: fitted.names,
    });
  }
  return {
    task,
    method: evaluation.method,
    algorithm: spec.algorithm,
    implementation,
    rows: n,
    folds,
    mean: meanMetrics(folds.map((f) => f.metrics)),
    trainMs: folds.reduce((a, f) => a + f.trainMs, 0),
    confusion: task === 'classification' ? confusionMatrix(truths, predictions, [...knownClasses]) : null,
    featureImportance: hasImportance
      ? [...importance.entries()]
          .map(([name, sum]) => ({ name, importance: sum / folds.length }))
          .sort((a, b) => b.importance - a.importance)
      : null,
  };
}
