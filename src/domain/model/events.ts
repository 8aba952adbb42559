import { z } from 'zod';

/**
 * The model lifecycle's facts, as they stand in a `model-<id>` stream. Each type is a past-tense fact;
 * payloads are validated at the edge with these schemas. Bump `MODEL_EVENT_SCHEMA_VERSION` when a
 * payload changes shape and teach the fold to read both.
 */
export const MODEL_EVENT_SCHEMA_VERSION = 1;

const name = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.:-]*$/,
    'must start with a letter or _ and hold only letters, digits, _ . : -',
  );

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const Algorithm = z.enum(['linearRegression']);
export type Algorithm = z.infer<typeof Algorithm>;

/** Inline training data: one row of feature values per target value. */
export const Dataset = z
  .object({
    rows: z.array(z.array(finite).min(1)).min(2).max(100_000),
    target: z.array(finite).min(2).max(100_000),
  })
  .refine((d) => d.rows.length === d.target.length, {
    message: 'rows and target must have the same length',
    path: ['target'],
  })
  .refine((d) => d.rows.every((r) => r.length === d.rows[0]!.length), {
    message: 'every row must have the same number of features',
    path: ['rows'],
  });
export type Dataset = z.infer<typeof Dataset>;

export const Metrics = z.object({ rmse: finite, r2: finite, samples: z.number().int().nonnegative() });
export type Metrics = z.infer<typeof Metrics>;

export const ModelRegistered = z.object({
  type: z.literal('modelRegistered'),
  name,
  algorithm: Algorithm,
  features: z.array(name).min(1).max(1000),
  target: name,
});
export const TrainingRequested = z.object({
  type: z.literal('trainingRequested'),
  dataset: Dataset,
});
export const TrainingSucceeded = z.object({
  type: z.literal('trainingSucceeded'),
  version: z.number().int().positive(),
  metrics: Metrics,
  /** The fitted parameters: enough to predict without retraining. */
  artifact: z.object({ weights: z.array(finite), intercept: finite }),
});
export const TrainingFailed = z.object({
  type: z.literal('trainingFailed'),
  reason: z.string().min(1).max(2000),
});
export const ModelDeployed = z.object({
  type: z.literal('modelDeployed'),
  version: z.number().int().positive(),
});
export const ModelRetired = z.object({
  type: z.literal('modelRetired'),
  reason: z.string().max(2000).optional(),
});

export const ModelEvent = z.discriminatedUnion('type', [
  ModelRegistered,
  TrainingRequested,
  TrainingSucceeded,
  TrainingFailed,
  ModelDeployed,
  ModelRetired,
]);
export type ModelEvent = z.infer<typeof ModelEvent>;
export type ModelEventOf<T extends ModelEvent['type']> = Extract<ModelEvent, { type: T }>;
