import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import {
  ALGORITHM_NAMES,
  type Algorithm,
  type AlgorithmName,
  type FittedModel,
  type Implementation,
  type ModelSpec,
  type SerializedModel,
  type Task,
  type TrainingData,
} from './algorithm.js';
import { decisionTree } from './algorithms/decisionTree/index.js';
import { kMeans } from './algorithms/kMeans/index.js';
import { linearRegression } from './algorithms/linearRegression/index.js';
import { logisticRegression } from './algorithms/logisticRegression/index.js';
import { randomForest } from './algorithms/randomForest/index.js';
import { invalid } from './algorithms/shared/params.js';

/** Every algorithm with its implementations; each algorithm's default has scikit-learn's default settings. */
export const ALGORITHMS: readonly Algorithm[] = Object.freeze([
  linearRegression,
  logisticRegression,
  decisionTree,
  randomForest,
  kMeans,
]);

const TASKS = ['classification', 'regression', 'clustering'] as const satisfies readonly Task[];

/** Fewest rows a supervised model is fitted on. */
const MIN_SUPERVISED_ROWS = 2;

export function findAlgorithm(name: string): Algorithm {
  const algorithm = ALGORITHMS.find((a) => a.name === name);
  if (!algorithm)
    throw invalid('algorithm', `unknown algorithm '${name}' (known: ${ALGORITHM_NAMES.join(', ')})`);
  return algorithm;
}

function findImplementation(algorithm: Algorithm, task: Task, name: string | undefined): Implementation {
  if (!algorithm.tasks.includes(task)) {
    throw invalid('task', `${algorithm.name} does not do ${task} (it does ${algorithm.tasks.join(', ')})`);
  }
  const wanted = name ?? algorithm.defaultImplementation;
  const implementation = algorithm.implementations.find((i) => i.name === wanted);
  if (!implementation) {
    const known = algorithm.implementations.map((i) => i.name).join(', ');
    throw invalid('implementation', `${algorithm.name} has no implementation '${wanted}' (known: ${known})`);
  }
  if (!implementation.tasks.includes(task)) {
    throw invalid('implementation', `${algorithm.name}/${wanted} does not do ${task}`);
  }
  return implementation;
}

/** Rectangular, finite, enough rows; a numeric target per row unless clustering; two classes at least. */
export function checkTrainingData(data: TrainingData, task: Task): void {
  const { features, target } = data;
  if (!Array.isArray(features) || features.length === 0) throw invalid('data.features', 'no rows');
  const first = features[0];
  if (!Array.isArray(first) || first.length === 0) throw invalid('data.features[0]', 'a row needs features');
  const p = first.length;
  for (let i = 0; i < features.length; i++) {
    const row = features[i];
    if (!Array.isArray(row) || row.length !== p) {
      throw invalid(`data.features[${i}]`, `expected ${p} features (as row 0), got ${row?.length ?? 'none'}`);
    }
    for (let j = 0; j < p; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw invalid(`data.features[${i}][${j}]`, `expected a finite number, got ${String(v)}`);
      }
    }
  }
  if (data.featureNames !== undefined && data.featureNames.length !== p) {
    throw invalid('data.featureNames', `expected ${p} names, got ${data.featureNames.length}`);
  }
  if (task === 'clustering') return;
  if (features.length < MIN_SUPERVISED_ROWS) {
    throw invalid('data.features', `expected at least ${MIN_SUPERVISED_ROWS} rows, got ${features.length}`);
  }
  if (!Array.isArray(target) || target.length !== features.length) {
    throw invalid(
      'data.target',
      `expected one target per row (${features.length}), got ${target?.length ?? 'none'}`,
    );
  }
  for (let i = 0; i < target.length; i++) {
    const v = target[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalid(`data.target[${i}]`, `expected a finite number, got ${String(v)}`);
    }
  }
  if (task === 'classification' && new Set(target).size < 2) {
    throw invalid('data.target', 'classification needs at least 2 classes');
  }
}

/**
 * Fits a model: checks the spec (algorithm, task, implementation, seed), the data, then lets the
 * implementation validate its params (a ValidationError names the param) and fit. Synchronous and pure.
 */
export function fitModel(data: TrainingData, spec: ModelSpec): FittedModel {
  const algorithm = findAlgorithm(spec.algorithm);
  if (!(TASKS as readonly string[]).includes(spec.task)) throw invalid('task', `unknown task '${spec.task}'`);
  const implementation = findImplementation(algorithm, spec.task, spec.implementation);
  if (spec.seed !== undefined && !Number.isSafeInteger(spec.seed)) {
    throw invalid('seed', `expected an integer, got ${spec.seed}`);
  }
  if (
    spec.params !== undefined &&
    (typeof spec.params !== 'object' || spec.params === null || Array.isArray(spec.params))
  ) {
    throw invalid('params', 'expected an object');
  }
  checkTrainingData(data, spec.task);
  return implementation.fit(data, { ...spec, implementation: implementation.name });
}

const serializedModelSchema = z.object({
  format: z.literal(1),
  algorithm: z.enum(ALGORITHM_NAMES),
  implementation: z.string().min(1),
  task: z.enum(TASKS),
  // The implementation validates its own params and state.
  params: z.unknown(),
  featureCount: z.number().int().min(1),
  state: z.unknown(),
});

/** Loads a serialised model (validated: its envelope here, its state by the implementation). */
export function loadModel(serialized: SerializedModel): FittedModel {
  const parsed = serializedModelSchema.safeParse(serialized);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: ['model', ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    throw new ValidationError(
      `invalid serialised model: ${issues.map((i) => `${i.path} (${i.message})`).join(', ')}`,
      issues,
    );
  }
  const model = parsed.data as SerializedModel;
  const algorithm = findAlgorithm(model.algorithm as AlgorithmName);
  const implementation = findImplementation(algorithm, model.task, model.implementation);
  return implementation.load(model);
}
