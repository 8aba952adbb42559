import type { AlgorithmName } from '../domain/model/algorithm-names.js';
import type { JsonValue } from '../stores/event-store/port.js';

/**
 * The learning core's one interface: every algorithm, whatever implements it, fits on rows of numbers
 * and answers a fitted model that predicts, serialises and loads. Pure and synchronous: it runs inside
 * the worker pool (src/learning/pool), never on the service's event loop.
 */

export type Task = 'classification' | 'regression' | 'clustering';

export { ALGORITHM_NAMES, type AlgorithmName } from '../domain/model/algorithm-names.js';

/** Rows of numeric features (one array per row, every row as wide) and, unless clustering, a target. */
export interface TrainingData {
  readonly features: readonly (readonly number[])[];
  /** Class labels (numbers) for classification, values for regression; empty for clustering. */
  readonly target: readonly number[];
  readonly featureNames?: readonly string[];
}

/** What to fit: the algorithm, its implementation (default: the algorithm's named default), settings. */
export interface ModelSpec {
  readonly algorithm: AlgorithmName;
  readonly task: Task;
  /** Default: the algorithm's `defaultImplementation`. */
  readonly implementation?: string;
  /** Hyper-parameters, validated by the algorithm's schema (defaults as scikit-learn's). */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Makes every random choice (bootstrap, feature sampling, k-means++ seeding) reproducible. */
  readonly seed?: number;
}

/** A fitted model as JSON: enough to load it again anywhere and predict the same. */
export interface SerializedModel {
  readonly format: 1;
  readonly algorithm: AlgorithmName;
  readonly implementation: string;
  readonly task: Task;
  /** The hyper-parameters it was fitted with, defaults filled in. */
  readonly params: JsonValue;
  readonly featureCount: number;
  /** The implementation's own fitted state (weights, trees, centres…). */
  readonly state: JsonValue;
}

export interface FittedModel {
  readonly algorithm: AlgorithmName;
  readonly implementation: string;
  readonly task: Task;
  readonly featureCount: number;
  /** Classification: the class labels, in the order `predictProba` gives their probabilities. */
  readonly classes?: readonly number[];
  /** A class label, a value, or a cluster index per row. */
  predict(rows: readonly (readonly number[])[]): number[];
  /** One row, without allocating a batch: the hot path of live scoring. */
  predictOne(row: readonly number[]): number;
  /** Classification only: per row, the probability of each of `classes`. */
  predictProba?(rows: readonly (readonly number[])[]): number[][];
  /** Where the algorithm has one: how much each feature counts (non-negative, summing to 1). */
  featureImportance?(): number[];
  serialize(): SerializedModel;
}

/** One way of fitting an algorithm (an mljs package, or a solver written here). */
export interface Implementation {
  readonly name: string;
  readonly tasks: readonly Task[];
  fit(data: TrainingData, spec: ModelSpec & { readonly implementation: string }): FittedModel;
  load(serialized: SerializedModel): FittedModel;
}

export interface Algorithm {
  readonly name: AlgorithmName;
  readonly tasks: readonly Task[];
  readonly defaultImplementation: string;
  readonly implementations: readonly Implementation[];
}
