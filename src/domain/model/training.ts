import type { ModelEventOf, TrainingSpec } from './events.js';

/** What a training run is given: the model, the version it will make, and its recipe. */
export interface TrainInput {
  readonly modelId: string;
  readonly version: number;
  readonly spec: TrainingSpec;
}

/** What a training run answers: the fact the host appends. */
export type TrainOutput = ModelEventOf<'trainingSucceeded'> | ModelEventOf<'trainingFailed'>;
