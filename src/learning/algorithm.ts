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

/**
 * How an incremental update (`Implementation.update`) learns from one more batch of rows. Rows are
 * always visited in the order given: in a real-time pipeline they come in time order, and the most
 * recent rows should be the last to move the model.
 */
export interface UpdateOptions {
  /**
   * The step size. Gradient learners (linear and logistic regression) take normalised steps (the step
   * divided by ‖x‖² + 1), which are stable for any value in (0, 2) whatever the features' scales;
   * default `DEFAULT_LEARNING_RATE` (0.1: cautious, a batch of noisy rows moves the model a little).
   * k-means: default none (Sculley's 1/count per centre, a running mean that never forgets); given, it
   * is the smallest step a centre takes, so that old rows are forgotten exponentially (drift tracking).
   */
  readonly learningRate?: number;
  /** Passes over the batch (default 1: each row seen once, as a stream sees it). */
  readonly epochs?: number;
  /** For an implementation that makes a random choice while updating (none does yet: the order is the rows'). */
  readonly seed?: number;
}

/** The step size of the gradient learners' updates when `UpdateOptions.learningRate` is not given. */
export const DEFAULT_LEARNING_RATE = 0.1;
/** Passes over a batch when `UpdateOptions.epochs` is not given. */
export const DEFAULT_EPOCHS = 1;

/** One way of fitting an algorithm (an mljs package, or a solver written here). */
export interface Implementation {
  readonly name: string;
  readonly tasks: readonly Task[];
  fit(data: TrainingData, spec: ModelSpec & { readonly implementation: string }): FittedModel;
  load(serialized: SerializedModel): FittedModel;
  /** Where the implementation learns incrementally: `serialized` moved on by one more batch of rows (SGD steps, mini-batch k-means…), without refitting from scratch. */
  update?(serialized: SerializedModel, data: TrainingData, options: UpdateOptions): FittedModel;
}

export interface Algorithm {
  readonly name: AlgorithmName;
  readonly tasks: readonly Task[];
  readonly defaultImplementation: string;
  readonly implementations: readonly Implementation[];
}
