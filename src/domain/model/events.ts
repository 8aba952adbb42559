import { z } from 'zod';
import { ALGORITHM_NAMES } from './algorithm-names.js';

/**
 * The model lifecycle's facts, as they stand in a `model-<id>` stream. Each type is a past-tense fact;
 * payloads are validated at the edge with these schemas. Bump `MODEL_EVENT_SCHEMA_VERSION` when a
 * payload changes shape and teach the fold to read both. (Version 1 of the "Learning II" design
 * replaced the earlier inline-linear-regression payloads before any deployment, so there is nothing
 * older to upcast.)
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
/** A JSON object whose shape the learning core checks (feature pipeline, dataset, hyper-parameters). */
const jsonObject = z.record(z.string(), z.unknown());
const version = z.number().int().positive();

export const Algorithm = z.enum(ALGORITHM_NAMES);
export type Algorithm = z.infer<typeof Algorithm>;
export const Task = z.enum(['classification', 'regression', 'clustering']);

/**
 * What one training run does: the algorithm and its implementation, hyper-parameters, seed, the feature
 * pipeline (`FeaturePipelineSpec`), the data (`DatasetSpec`: inline rows or series over an absolute
 * time range) and the share of rows held out (the last rows, in time order) to judge it on.
 */
export const TrainingSpec = z.object({
  algorithm: Algorithm,
  implementation: z.string().min(1).max(100).optional(),
  task: Task,
  params: jsonObject,
  seed: z.number().int(),
  features: jsonObject,
  dataset: jsonObject,
  testFraction: z.number().gt(0).lt(1),
});
export type TrainingSpec = z.infer<typeof TrainingSpec>;

/** Which rows a version was trained and judged on. */
export const DataWindow = z.object({
  source: z.enum(['inline', 'series']),
  /** The series behind the columns (series datasets). */
  series: z.array(z.object({ column: z.string(), seriesId: z.string(), name: z.string() })).max(100),
  /** The time range and step asked for (series datasets; ms since the epoch). */
  from: z.number().int().nullable(),
  to: z.number().int().nullable(),
  stepMs: z.number().int().nullable(),
  rows: z.number().int().nonnegative(),
  trainRows: z.number().int().nonnegative(),
  testRows: z.number().int().nonnegative(),
  /** The time of the last row trained on (series datasets): every later row was not trained on. */
  trainedUntil: z.number().int().nullable(),
  /** sha256 (hex) of the rows, targets and times used, as JSON. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type DataWindow = z.infer<typeof DataWindow>;

export const Metrics = z.record(z.string(), finite.nullable());
export type Metrics = z.infer<typeof Metrics>;

/**
 * The fitted parameters: inline (the serialised model and the fitted feature pipeline) up to
 * `INLINE_ARTIFACT_MAX_BYTES` of JSON, else a content hash of the file `DATA_DIR/models/<sha256>.json`,
 * written and fsynced before this fact is appended.
 */
export const Artifact = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('inline'),
    sha256: z.string(),
    bytes: z.number().int(),
    model: jsonObject,
    features: jsonObject,
  }),
  z.object({ kind: z.literal('file'), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() }),
]);
export type Artifact = z.infer<typeof Artifact>;

export const ModelRegistered = z.object({
  type: z.literal('modelRegistered'),
  name,
  description: z.string().max(2000).optional(),
  /** The default training recipe; a training request may override parts of it. */
  spec: TrainingSpec,
});
export const TrainingRequested = z.object({
  type: z.literal('trainingRequested'),
  version,
  /** The whole recipe of this run, time range resolved: a run repeated after a crash does the same. */
  spec: TrainingSpec,
});
export const TrainingSucceeded = z.object({
  type: z.literal('trainingSucceeded'),
  version,
  algorithm: Algorithm,
  implementation: z.string(),
  /** Every hyper-parameter, defaults filled in, as the fitted model reports them. */
  params: z.unknown(),
  featureNames: z.array(z.string()),
  data: DataWindow,
  evaluation: z.object({ method: z.literal('holdout'), testRows: z.number().int(), metrics: Metrics }),
  trainMs: finite,
  artifact: Artifact,
});
/**
 * A version made outside the model's own training run (a learning pipeline's train, evaluate and
 * register tasks): the same record as `trainingSucceeded`, with its recipe and where it came from.
 */
export const VersionRegistered = TrainingSucceeded.extend({
  type: z.literal('versionRegistered'),
  spec: TrainingSpec,
  source: z.object({ pipelineId: z.string().min(1).max(200), run: z.number().int().positive() }),
  /** Moved on from this version by incremental updates, rather than fitted from scratch. */
  updatedFrom: version.nullable(),
});
export const TrainingFailed = z.object({
  type: z.literal('trainingFailed'),
  version: version.optional(),
  reason: z.string().min(1).max(2000),
});
/** Promoted: this version now answers predictions. */
export const ModelDeployed = z.object({ type: z.literal('modelDeployed'), version });
/** Rolled back to an earlier version than the one deployed. */
export const ModelRolledBack = z.object({ type: z.literal('modelRolledBack'), version, from: version });
export const ModelRetired = z.object({
  type: z.literal('modelRetired'),
  reason: z.string().max(2000).optional(),
});

export const ModelEvent = z.discriminatedUnion('type', [
  ModelRegistered,
  TrainingRequested,
  TrainingSucceeded,
  VersionRegistered,
  TrainingFailed,
  ModelDeployed,
  ModelRolledBack,
  ModelRetired,
]);
export type ModelEvent = z.infer<typeof ModelEvent>;
export type ModelEventOf<T extends ModelEvent['type']> = Extract<ModelEvent, { type: T }>;
