import type { ActorHost } from '../../actors/host.js';
import type { ArtifactStore } from '../../actors/model.artifacts.js';
import type { ModelRegistry } from '../../actors/model.registry.js';
import type { TaskRunInput } from '../../domain/learning-pipeline/task-run.js';
import type { LearningPool } from '../../learning/pool/pool.js';
import type { AnalyticsStore } from '../../stores/clickhouse/client.js';
import type { BlobStore } from '../blobs.js';

/** What the tasks of learning pipelines work with. */
export interface TaskDeps {
  readonly analytics: AnalyticsStore;
  readonly pool: LearningPool;
  readonly artifacts: ArtifactStore;
  readonly blobs: BlobStore;
  readonly models: ModelRegistry;
  /** The host is made after the actor kinds (which take the task runner), so it comes late. */
  readonly host: () => ActorHost;
  readonly now: () => number;
}

/** One kind of task: its output (a JSON summary, large things by reference), or a thrown error. */
export type TaskFn = (
  input: TaskRunInput,
  deps: TaskDeps,
  signal: AbortSignal,
) => Promise<Record<string, unknown>>;

/** The principal of what a pipeline's tasks do: the pipeline's actor. */
export const pipelinePrincipal = (pipelineId: string) => `actor:learningpipeline-${pipelineId}`;

/** The output of the task a task takes its input of `kind` from (the graph guarantees there is one). */
export function inputOf(input: TaskRunInput, kind: string): Readonly<Record<string, unknown>> {
  const output = input.inputs[kind];
  if (!output) throw new Error(`task ${input.task.id} has no finished ${kind} task upstream`);
  return output;
}
