import { z } from 'zod';
import type { JsonValue } from '../../../stores/event-store/port.js';
import type {
  FittedModel,
  Implementation,
  SerializedModel,
  TrainingData,
  UpdateOptions,
} from '../../algorithm.js';
import { argmax, createFittedModel, normalise } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { matrix, numbers } from '../shared/schemas.js';
import { epochsOf, gradientRate, NORMALISED_EPSILON } from '../shared/update.js';

/**
 * A fitted linear classifier on standardised inputs, whichever solver produced it: one weight vector for
 * two classes (scikit-learn's binary form, for `classes[1]`), or one per class, combined one-vs-rest
 * (sigmoids normalised to sum to 1) or multinomially (softmax).
 */
export const linearClassifierState = z.strictObject({
  classes: numbers,
  mean: numbers,
  scale: z.array(z.number().positive()),
  coef: matrix,
  intercept: numbers,
  multiClass: z.enum(['ovr', 'multinomial']),
});
export type LinearClassifierState = z.output<typeof linearClassifierState>;

function checkShape(state: LinearClassifierState, p: number): void {
  const k = state.classes.length;
  const rows = k === 2 && state.multiClass === 'ovr' ? [1, 2] : [k];
  if (k < 2) throw invalid('state.classes', 'expected at least 2 classes');
  if (state.mean.length !== p || state.scale.length !== p) {
    throw invalid('state.mean', `expected ${p} means and scales`);
  }
  if (!rows.includes(state.coef.length) || state.intercept.length !== state.coef.length) {
    throw invalid('state.coef', `expected ${rows.join(' or ')} weight vectors with as many intercepts`);
  }
  if (state.coef.some((w) => w.length !== p)) throw invalid('state.coef', `expected ${p} weights per vector`);
}

/** Each row's class index into `classes`; a label the model does not know cannot be learnt by an update. */
function classIndices(classes: readonly number[], target: readonly number[]): Int32Array {
  const index = new Map(classes.map((label, i) => [label, i]));
  return Int32Array.from(target, (label, i) => {
    const c = index.get(label);
    if (c === undefined) {
      throw invalid(
        `data.target[${i}]`,
        `${label} is not one of the model's classes (${classes.join(', ')}); retrain it to add a class`,
      );
    }
    return c;
  });
}

/**
 * Moves a linear classifier on by one batch: per row, in order, a normalised stochastic gradient step
 * on the log-loss, wᵣ += μ·eᵣ·z / (ε + ‖z‖² + 1), bᵣ the same with input 1, z the row standardised with
 * the scaler frozen at fit time. eᵣ is y − σ(score) for a binary (or one-vs-rest) vector, and
 * 1[y = r] − softmaxᵣ for a multinomial model, all taken from the scores before the step. Normalised,
 * a step moves the row's score by at most μ, so any μ in (0, 2) is stable whatever the scales. The L2
 * penalty of the fit is not applied: a stream has no fixed number of rows to weigh it against.
 */
export function updateLinearClassifier(
  state: LinearClassifierState,
  data: TrainingData,
  p: number,
  options: UpdateOptions,
): LinearClassifierState {
  checkShape(state, p);
  const rate = gradientRate(options);
  const epochs = epochsOf(options);
  const y = classIndices(state.classes, data.target);
  const rows = state.coef.length;
  const coef = state.coef.map((w) => Float64Array.from(w));
  const intercept = Float64Array.from(state.intercept);
  const z = new Float64Array(p);
  const errors = new Float64Array(rows);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < data.features.length; i++) {
      const row = data.features[i]!;
      let norm = 1;
      for (let j = 0; j < p; j++) {
        z[j] = (row[j]! - state.mean[j]!) / state.scale[j]!;
        norm += z[j]! * z[j]!;
      }
      classErrors(coef, intercept, z, y[i]!, state.multiClass, errors);
      for (let r = 0; r < rows; r++) {
        const step = (rate * errors[r]!) / (NORMALISED_EPSILON + norm);
        const w = coef[r]!;
        for (let j = 0; j < p; j++) w[j]! += step * z[j]!;
        intercept[r]! += step;
      }
    }
  }
  const moved = { ...state, coef: coef.map((w) => Array.from(w)), intercept: Array.from(intercept) };
  if (!moved.coef.every((w) => w.every(Number.isFinite)) || !moved.intercept.every(Number.isFinite)) {
    throw new Error('logisticRegression: the update did not give finite weights');
  }
  return moved;
}

/** Per weight vector, minus the log-loss's gradient with respect to its score on the row `z` of class `y`. */
function classErrors(
  coef: readonly Float64Array[],
  intercept: Float64Array,
  z: Float64Array,
  y: number,
  multiClass: LinearClassifierState['multiClass'],
  out: Float64Array,
): void {
  const rows = coef.length;
  for (let r = 0; r < rows; r++) {
    let s = intercept[r]!;
    const w = coef[r]!;
    for (let j = 0; j < z.length; j++) s += w[j]! * z[j]!;
    out[r] = s;
  }
  if (rows === 1) {
    // The binary form scores classes[1].
    out[0] = (y === 1 ? 1 : 0) - sigmoid(out[0]!);
    return;
  }
  if (multiClass === 'ovr') {
    for (let r = 0; r < rows; r++) out[r] = (y === r ? 1 : 0) - sigmoid(out[r]!);
    return;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < rows; r++) max = Math.max(max, out[r]!);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    out[r] = Math.exp(out[r]! - max);
    sum += out[r]!;
  }
  for (let r = 0; r < rows; r++) out[r] = (y === r ? 1 : 0) - out[r]! / sum;
}

const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

export function buildLinearClassifier(
  state: LinearClassifierState,
  meta: { implementation: string; params: JsonValue; featureCount: number },
): FittedModel {
  const p = meta.featureCount;
  checkShape(state, p);
  const { classes, multiClass } = state;
  const rows = state.coef.length;
  // Fold the standardiser into the weights: w·(x − μ)/s + b = (w/s)·x + (b − w·μ/s).
  const w = new Float64Array(rows * p);
  const b = new Float64Array(rows);
  const importance = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    let bias = state.intercept[r]!;
    for (let j = 0; j < p; j++) {
      const wj = state.coef[r]![j]!;
      w[r * p + j] = wj / state.scale[j]!;
      bias -= (wj * state.mean[j]!) / state.scale[j]!;
      importance[j]! += Math.abs(wj);
    }
    b[r] = bias;
  }
  const scores = new Float64Array(rows);
  const score = (row: readonly number[]): void => {
    for (let r = 0; r < rows; r++) {
      let s = b[r]!;
      const base = r * p;
      for (let j = 0; j < p; j++) s += w[base + j]! * row[j]!;
      scores[r] = s;
    }
  };
  const probaInto = (row: readonly number[], out: Float64Array): void => {
    score(row);
    if (rows === 1) {
      const q = sigmoid(scores[0]!);
      out[0] = 1 - q;
      out[1] = q;
      return;
    }
    let sum = 0;
    if (multiClass === 'multinomial') {
      let max = Number.NEGATIVE_INFINITY;
      for (let r = 0; r < rows; r++) max = Math.max(max, scores[r]!);
      for (let r = 0; r < rows; r++) {
        out[r] = Math.exp(scores[r]! - max);
        sum += out[r]!;
      }
    } else {
      for (let r = 0; r < rows; r++) {
        out[r] = sigmoid(scores[r]!);
        sum += out[r]!;
      }
    }
    for (let r = 0; r < rows; r++) out[r]! /= sum;
  };
  return createFittedModel({
    algorithm: 'logisticRegression',
    implementation: meta.implementation,
    task: 'classification',
    featureCount: p,
    params: meta.params,
    classes,
    predictOne: (row) => {
      score(row);
      // Both one-vs-rest and softmax pick the largest decision value, as scikit-learn's predict.
      return classes[rows === 1 ? (scores[0]! > 0 ? 1 : 0) : argmax(scores)]!;
    },
    probaInto,
    featureImportance: () => normalise(importance),
    state: () => state,
  });
}

/**
 * `load` and `update` of an implementation whose fitted state is a linear classifier's (both solvers):
 * the params checked with its own schema, the state with the shared one; an update is normalised SGD
 * on the log-loss from the current weights (see `updateLinearClassifier`).
 */
export function linearClassifierImplementation<S extends z.ZodType>(
  implementation: string,
  paramsSchema: S,
  owner: string,
): Pick<Implementation, 'load'> & Required<Pick<Implementation, 'update'>> {
  const read = (serialized: SerializedModel) => ({
    state: parseState(linearClassifierState, serialized.state, owner),
    meta: {
      implementation,
      params: parseParams(paramsSchema, serialized.params, owner) as JsonValue,
      featureCount: serialized.featureCount,
    },
  });
  return {
    load(serialized) {
      const { state, meta } = read(serialized);
      return buildLinearClassifier(state, meta);
    },
    update(serialized: SerializedModel, data: TrainingData, options: UpdateOptions) {
      const { state, meta } = read(serialized);
      return buildLinearClassifier(updateLinearClassifier(state, data, meta.featureCount, options), meta);
    },
  };
}
