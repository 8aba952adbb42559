import { z } from 'zod';
import type { JsonValue } from '../../../stores/event-store/port.js';
import type { FittedModel } from '../../algorithm.js';
import { argmax, createFittedModel, normalise } from '../shared/fitted.js';
import { invalid } from '../shared/params.js';
import { matrix, numbers } from '../shared/schemas.js';

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
