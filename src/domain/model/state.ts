import type { ModelEventOf, TrainingSpec } from './events.js';

/** A trained version: how it was made, on which rows, how it scored on rows it did not train on. */
export interface ModelVersion extends Omit<ModelEventOf<'trainingSucceeded'>, 'type'> {
  /** The recipe the run was asked for. */
  readonly spec: TrainingSpec;
}

/** What a model actor knows. The lifecycle status is the machine's state value, not a field here. */
export interface ModelContext {
  readonly modelId: string;
  readonly name: string | null;
  readonly description: string | null;
  /** The registered default recipe. */
  readonly spec: TrainingSpec | null;
  readonly versions: readonly ModelVersion[];
  readonly deployedVersion: number | null;
  /** The number given to the last training run asked for (failed runs use theirs up). */
  readonly requested: number;
  /** The run in progress, if any. */
  readonly training: { readonly version: number; readonly spec: TrainingSpec } | null;
  readonly lastFailure: { readonly version: number | null; readonly reason: string } | null;
}

export function initialModelContext(modelId: string): ModelContext {
  return {
    modelId,
    name: null,
    description: null,
    spec: null,
    versions: [],
    deployedVersion: null,
    requested: 0,
    training: null,
    lastFailure: null,
  };
}

export function nextVersion(context: ModelContext): number {
  return context.requested + 1;
}

export function hasVersion(context: ModelContext, version: number): boolean {
  return context.versions.some((v) => v.version === version);
}

export function versionOf(context: ModelContext, version: number): ModelVersion | undefined {
  return context.versions.find((v) => v.version === version);
}
