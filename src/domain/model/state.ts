import type { Algorithm, Metrics, ModelEventOf } from './events.js';

export interface ModelVersion {
  readonly version: number;
  readonly metrics: Metrics;
  readonly artifact: ModelEventOf<'trainingSucceeded'>['artifact'];
}

/** What a model actor knows. The lifecycle status is the machine's state value, not a field here. */
export interface ModelContext {
  readonly modelId: string;
  readonly spec: {
    readonly name: string;
    readonly algorithm: Algorithm;
    readonly features: readonly string[];
    readonly target: string;
  } | null;
  readonly versions: readonly ModelVersion[];
  readonly deployedVersion: number | null;
  readonly lastFailure: string | null;
}

export function initialModelContext(modelId: string): ModelContext {
  return { modelId, spec: null, versions: [], deployedVersion: null, lastFailure: null };
}

export function nextVersion(context: ModelContext): number {
  return (context.versions.at(-1)?.version ?? 0) + 1;
}

export function hasVersion(context: ModelContext, version: number): boolean {
  return context.versions.some((v) => v.version === version);
}
