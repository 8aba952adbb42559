import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { z } from 'zod';
import type { Implementation, ModelSpec, TrainingData } from '../../algorithm.js';
import { encodeClasses, fitStandardiser, standardiseInPlace, toRowMajor } from '../shared/data.js';
import { parseParams } from '../shared/params.js';
import {
  buildLinearClassifier,
  type LinearClassifierState,
  linearClassifierImplementation,
} from './model.js';

/**
 * ml-logistic-regression, wrapped so that it works: it has no intercept, no penalty, and sums (not
 * averages) its gradient over the rows. So the rows are standardised, a constant column is appended
 * (its weight is the intercept) and the learning rate defaults to 1/n.
 */
export const mljsLogisticParams = z.strictObject({
  /** Gradient-ascent steps per class. */
  numSteps: z.number().int().min(1).default(1000),
  /** Default (null): 1/n. */
  learningRate: z.number().positive().nullable().default(null),
});

const NAME = 'logisticRegression/mljs';

export const logisticMljs: Implementation = {
  name: 'mljs',
  tasks: ['classification'],
  fit(data: TrainingData, spec: ModelSpec) {
    const params = parseParams(mljsLogisticParams, spec.params, 'logisticRegression');
    const n = data.features.length;
    const p = data.features[0]!.length;
    const { classes, y } = encodeClasses(data.target);
    const x = toRowMajor(data.features, p);
    const standardiser = fitStandardiser(x, n, p);
    standardiseInPlace(x, n, p, standardiser);
    const withBias = new Matrix(n, p + 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) withBias.set(i, j, x[i * p + j]!);
      withBias.set(i, p, 1);
    }
    const model = new LogisticRegression({
      numSteps: params.numSteps,
      learningRate: params.learningRate ?? 1 / n,
    });
    model.train(withBias, Matrix.columnVector(Array.from(y)));
    // Its classifier c scores P(not c) (it relabels c as 0, the rest as 1): negate to score P(c).
    const coef: number[][] = [];
    const intercept: number[] = [];
    for (const classifier of model.classifiers) {
      const w = classifier.weights.to1DArray();
      coef.push(w.slice(0, p).map((v) => -v));
      intercept.push(-w[p]!);
    }
    const state: LinearClassifierState = {
      classes,
      mean: Array.from(standardiser.mean),
      scale: Array.from(standardiser.scale),
      coef,
      intercept,
      multiClass: 'ovr',
    };
    return buildLinearClassifier(state, { implementation: 'mljs', params, featureCount: p });
  },
  ...linearClassifierImplementation('mljs', mljsLogisticParams, NAME),
};
