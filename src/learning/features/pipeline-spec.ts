import { z } from 'zod';
import { ALGORITHM_NAMES } from '../algorithm.js';

/**
 * A feature pipeline, fitted on training rows only: expand (degree-2 polynomial), select (in the order
 * listed), then scale. Its JSON is what the API takes as `features`.
 */

const topOrThreshold = <T extends z.ZodRawShape>(shape: T, max: number) =>
  z
    .object({
      ...shape,
      /** Keep the k best. */
      topK: z.number().int().min(1).optional(),
      /** Keep those at or above it. */
      threshold: z.number().min(0).max(max).optional(),
    })
    .strict()
    .refine(
      (s) =>
        (s as { topK?: number }).topK !== undefined || (s as { threshold?: number }).threshold !== undefined,
      {
        message: 'give topK, threshold, or both',
        path: ['topK'],
      },
    );

export const SelectionStep = z.union([
  /** Keep features whose population variance on the training rows is above the threshold (default 0: drop constants). */
  z.object({ kind: z.literal('variance'), threshold: z.number().min(0).default(0) }).strict(),
  /** Rank features by |Pearson r| with the target on the training rows. */
  topOrThreshold({ kind: z.literal('correlation') }, 1),
  /** Rank features by a model's featureImportance, fitted on the training rows (default: a random forest). */
  topOrThreshold(
    {
      kind: z.literal('importance'),
      algorithm: z.enum(ALGORITHM_NAMES).default('randomForest'),
      implementation: z.string().optional(),
      params: z.record(z.string(), z.unknown()).optional(),
      seed: z.number().int().optional(),
    },
    1,
  ),
]);
export type SelectionStep = z.output<typeof SelectionStep>;

export const FeaturePipelineSpec = z
  .object({
    /** Degree 2: each feature's square (unless `interactionOnly`) and every pairwise product. */
    polynomial: z
      .object({ degree: z.literal(2).default(2), interactionOnly: z.boolean().default(false) })
      .strict()
      .optional(),
    select: z.array(SelectionStep).max(10).default([]),
    /** `standard`: (x − mean) / std; `minmax`: (x − min) / (max − min); a constant feature's divisor is 1. */
    scale: z.enum(['none', 'standard', 'minmax']).default('none'),
  })
  .strict();
export type FeaturePipelineSpec = z.output<typeof FeaturePipelineSpec>;
export type FeaturePipelineInput = z.input<typeof FeaturePipelineSpec>;

/** Features a pipeline may produce after expansion. */
export const MAX_EXPANDED_FEATURES = 20_000;
