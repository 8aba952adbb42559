import { z } from 'zod';
import type { Implementation, ModelSpec, TrainingData } from '../../algorithm.js';
import { encodeClasses, fitStandardiser, standardiseInPlace, toRowMajor } from '../shared/data.js';
import { parseParams } from '../shared/params.js';
import {
  buildLinearClassifier,
  type LinearClassifierState,
  linearClassifierImplementation,
} from './model.js';
import { fitMultinomial } from './multinomial.js';
import { fitBinaryNewton } from './newton.js';

/** scikit-learn's LogisticRegression defaults (penalty='l2', C=1.0, max_iter=100, tol=1e-4). */
export const newtonParams = z.strictObject({
  /** Inverse regularisation strength: ½‖w‖² + C·Σ log-loss. */
  C: z.number().positive().default(1),
  maxIter: z.number().int().min(1).default(100),
  tol: z.number().positive().default(1e-4),
  /** More than two classes: one softmax model (default, as scikit-learn's) or one binary model per class. */
  multiClass: z.enum(['ovr', 'multinomial']).default('multinomial'),
});

const NAME = 'logisticRegression/newton';

export const logisticNewton: Implementation = {
  name: 'newton',
  tasks: ['classification'],
  fit(data: TrainingData, spec: ModelSpec) {
    const params = parseParams(newtonParams, spec.params, 'logisticRegression');
    const n = data.features.length;
    const p = data.features[0]!.length;
    const { classes, y } = encodeClasses(data.target);
    const x = toRowMajor(data.features, p);
    const standardiser = fitStandardiser(x, n, p);
    standardiseInPlace(x, n, p, standardiser);
    const k = classes.length;
    const solver = { C: params.C, maxIter: params.maxIter, tol: params.tol };
    const coef: number[][] = [];
    const intercept: number[] = [];
    if (k > 2 && params.multiClass === 'multinomial') {
      const fit = fitMultinomial(x, n, p, y, k, solver);
      for (let c = 0; c < k; c++) {
        coef.push(Array.from(fit.coef[c]!));
        intercept.push(fit.intercept[c]!);
      }
    } else {
      // Binary: one model for classes[1]; more classes: one per class against the rest.
      const targets = k === 2 ? [1] : classes.map((_, c) => c);
      const binary = new Uint8Array(n);
      for (const c of targets) {
        for (let i = 0; i < n; i++) binary[i] = y[i] === c ? 1 : 0;
        const fit = fitBinaryNewton(x, n, p, binary, solver);
        coef.push(Array.from(fit.coef));
        intercept.push(fit.intercept);
      }
    }
    const state: LinearClassifierState = {
      classes,
      mean: Array.from(standardiser.mean),
      scale: Array.from(standardiser.scale),
      coef,
      intercept,
      // Two classes: always the one binary model (multiClass only matters for more).
      multiClass: k > 2 ? params.multiClass : 'ovr',
    };
    return buildLinearClassifier(state, { implementation: 'newton', params, featureCount: p });
  },
  ...linearClassifierImplementation('newton', newtonParams, NAME),
};
