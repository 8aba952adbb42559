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
  type UpdateOptions,
} from './algorithm.js';
import { decisionTree } from './algorithms/decisionTree/index.js';
import { holtWinters } from './algorithms/holtWinters/index.js';
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
  holtWinters,
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

/** Rectangular and finite, one row at least, as many names as features if named; answers the width. */
function checkFeatures(data: TrainingData): number {
  const { features } = data;
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
  return p;
}

/** A finite target per row. */
function checkTarget(data: TrainingData): void {
  const { features, target } = data;
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
}

/** Rectangular, finite, enough rows; a numeric target per row unless clustering; two classes at least. */
export function checkTrainingData(data: TrainingData, task: Task): void {
  checkFeatures(data);
  if (task === 'clustering') return;
  if (data.features.length < MIN_SUPERVISED_ROWS) {
    throw invalid(
      'data.features',
      `expected at least ${MIN_SUPERVISED_ROWS} rows, got ${data.features.length}`,
    );
  }
  checkTarget(data);
  if (task === 'classification' && new Set(data.target).size < 2) {
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

/** A serialised model's envelope, checked, with the implementation that fitted it. */
function parseSerialized(serialized: SerializedModel): {
  model: SerializedModel;
  implementation: Implementation;
} {
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
  return { model, implementation: findImplementation(algorithm, model.task, model.implementation) };
}

/** Loads a serialised model (validated: its envelope here, its state by the implementation). */
export function loadModel(serialized: SerializedModel): FittedModel {
  const { model, implementation } = parseSerialized(serialized);
  return implementation.load(model);
}

/** More passes than this over one batch is a refit in disguise (and a long job). */
const MAX_UPDATE_EPOCHS = 1000;

const updateOptionsSchema = z.strictObject({
  // The learner checks its own range ((0, 2) for normalised gradient steps, (0, 1] for k-means).
  learningRate: z.number().positive().optional(),
  epochs: z.number().int().min(1).max(MAX_UPDATE_EPOCHS).optional(),
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
});

function parseUpdateOptions(options: UpdateOptions): UpdateOptions {
  const parsed = updateOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: ['options', ...issue.path.map(String), ...('keys' in issue ? issue.keys : [])].join('.'),
    message: issue.code === 'unrecognized_keys' ? 'unknown option' : issue.message,
  }));
  throw new ValidationError(
    `invalid update options: ${issues.map((i) => `${i.path} (${i.message})`).join(', ')}`,
    issues,
  );
}

/** Whether an algorithm's implementation (default: its default one) learns incrementally (`updateModel`). */
export function canUpdate(algorithm: AlgorithmName, implementation?: string): boolean {
  const found = ALGORITHMS.find((a) => a.name === algorithm);
  const name = implementation ?? found?.defaultImplementation;
  return found?.implementations.find((i) => i.name === name)?.update !== undefined;
}

/**
 * Moves a serialised model on by one batch of rows, in order, without refitting (see
 * `Implementation.update`). The batch may be small: one row, one class, unlike a fit's data; it must be
 * as wide as the model. Throws a ValidationError when the implementation cannot learn incrementally.
 */
export function updateModel(
  serialized: SerializedModel,
  data: TrainingData,
  options: UpdateOptions,
): FittedModel {
  const { model, implementation } = parseSerialized(serialized);
  if (!implementation.update) {
    const message = `${model.algorithm}/${model.implementation} cannot learn incrementally; retrain it instead`;
    throw new ValidationError(message, [{ path: 'model.implementation', message }]);
  }
  const parsedOptions = parseUpdateOptions(options);
  const p = checkFeatures(data);
  if (p !== model.featureCount) {
    throw invalid('data.features', `expected ${model.featureCount} features (as the model), got ${p}`);
  }
  if (model.task !== 'clustering') checkTarget(data);
  return implementation.update(model, data, parsedOptions);
}
