import type { z } from 'zod';
import { parseOrThrow, ValidationError } from '../domain/errors.js';
import {
  LearningPipelineDefinition,
  type LearningPipelineInput,
} from '../domain/learning-pipeline/definition.js';
import type { RunWindow } from '../domain/learning-pipeline/events.js';
import type { TrainingSpec } from '../domain/model/events.js';
import { SeriesDatasetSpec } from '../learning/features/dataset-spec.js';
import { FeaturePipelineSpec } from '../learning/features/pipeline-spec.js';
import { ALGORITHMS } from '../learning/registry.js';

const check = <S extends z.ZodType>(schema: S, value: unknown, path: string): z.output<S> =>
  parseOrThrow(schema, value, { path });

/** The series recipe of a run: the definition's dataset over the window (from earlier by the warm-up). */
export function datasetFor(definition: LearningPipelineDefinition, window: RunWindow): SeriesDatasetSpec {
  const base = definition.dataset as Omit<z.input<typeof SeriesDatasetSpec>, 'from' | 'to'>;
  const draft = SeriesDatasetSpec.parse({ ...base, from: window.from, to: window.to });
  return { ...draft, from: window.from - warmupSteps(draft) * draft.stepMs };
}

/** Steps before a row that its features look back on: read so the window's first rows are complete. */
export const warmupSteps = (d: Pick<SeriesDatasetSpec, 'lags' | 'rolling' | 'differences'>): number =>
  Math.max(0, ...d.lags, ...d.rolling.map((w) => w - 1), ...d.differences);

/** The model recipe a run registers its version with (the window's rows as its dataset). */
export function trainingSpecFor(definition: LearningPipelineDefinition, window: RunWindow): TrainingSpec {
  const { learningRate: _, ...training } = definition.training;
  return { ...training, dataset: { fromSeries: datasetFor(definition, window) } };
}

/**
 * A definition as the API takes it, checked through: its shape, its graph, its dataset recipe (as a
 * series dataset over a sample window), its feature pipeline and its algorithm and task. Errors name
 * the field under `definition`.
 */
export function parseDefinition(input: unknown, path = 'definition'): LearningPipelineDefinition {
  const definition = check(LearningPipelineDefinition, input, path);
  const { dataset } = definition;
  if ('from' in dataset || 'to' in dataset)
    throw new ValidationError(`${path}.dataset: give no from or to; each run reads its own window`, [
      { path: `${path}.dataset`, message: 'give no from or to; each run reads its own window' },
    ]);
  const stepMs = typeof dataset.stepMs === 'number' && dataset.stepMs > 0 ? dataset.stepMs : 1;
  check(
    SeriesDatasetSpec,
    { ...dataset, from: 0, to: Math.max(definition.windowMs, stepMs) },
    `${path}.dataset`,
  );
  check(FeaturePipelineSpec, definition.training.features, `${path}.training.features`);
  const algorithm = ALGORITHMS.find((a) => a.name === definition.training.algorithm);
  if (algorithm && !algorithm.tasks.includes(definition.training.task))
    throw new ValidationError(
      `${path}.training.task: ${definition.training.algorithm} does ${algorithm.tasks.join(', ')}`,
      [
        {
          path: `${path}.training.task`,
          message: `${definition.training.algorithm} does ${algorithm.tasks.join(', ')}`,
        },
      ],
    );
  return definition;
}

export type { LearningPipelineInput };
