import { z } from 'zod';
import { invalid } from '../shared/params.js';
import { seedSchema } from '../shared/schemas.js';

/**
 * How many features a split may look at: null (all), 'sqrt', 'log2', an integer count, or a fraction in
 * (0, 1) of the features. (scikit-learn's float 1.0 = all features is `null` here: 1 means one feature.)
 */
export const maxFeaturesSchema = z
  .union([
    z.null(),
    z.enum(['sqrt', 'log2']),
    z
      .number()
      .positive()
      .refine(
        (v) => v < 1 || Number.isInteger(v),
        'expected a fraction in (0, 1) or a whole number of features',
      ),
  ])
  .default(null);
export type MaxFeatures = z.output<typeof maxFeaturesSchema>;

/** scikit-learn's DecisionTree{Classifier,Regressor} defaults: grown until pure. */
export const treeParamsShape = {
  maxDepth: z.number().int().min(1).nullable().default(null),
  minSamplesSplit: z.number().int().min(2).default(2),
  minSamplesLeaf: z.number().int().min(1).default(1),
  maxFeatures: maxFeaturesSchema,
  /** Overrides the spec's seed; filled in with the seed used. */
  seed: seedSchema.nullable().default(null),
};
export const treeParams = z.strictObject(treeParamsShape);
export type TreeParams = z.output<typeof treeParams>;

export function resolveMaxFeatures(value: MaxFeatures, p: number): number {
  if (value === null) return p;
  if (value === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(p)));
  if (value === 'log2') return Math.max(1, Math.floor(Math.log2(p)));
  if (value < 1) return Math.max(1, Math.floor(value * p));
  if (value > p)
    throw invalid('params.maxFeatures', `expected at most ${p} (the number of features), got ${value}`);
  return value;
}
