import { z } from 'zod';
import type { Task } from '../../algorithm.js';
import { type MaxFeatures, maxFeaturesSchema, treeParamsShape } from '../decisionTree/params.js';

/** scikit-learn's RandomForest{Classifier,Regressor} defaults: 100 bootstrapped trees grown until pure. */
export const forestParams = z.strictObject({
  ...treeParamsShape,
  nEstimators: z.number().int().min(1).default(100),
  bootstrap: z.boolean().default(true),
  /** Default: 'sqrt' for classification, null (all features) for regression, as scikit-learn. */
  maxFeatures: maxFeaturesSchema.unwrap().optional(),
});

export function defaultForestMaxFeatures(task: Task): MaxFeatures {
  return task === 'classification' ? 'sqrt' : null;
}
