import type { LearningPipelineDefinition, TaskSpec } from './definition.js';
import type { LearningPipelineEventOf, RunWindow } from './events.js';

/** What one attempt of a task is given: the pipeline, the run, the task, and its inputs' outputs. */
export interface TaskRunInput {
  readonly pipelineId: string;
  readonly run: number;
  readonly task: TaskSpec;
  readonly attempt: number;
  /** Earlier starts of this task in a row that the process stopped during (crashes), not counted as failures. */
  readonly interrupted: number;
  readonly window: RunWindow;
  readonly definition: LearningPipelineDefinition;
  /** The outputs of the tasks it takes its inputs from, by their kind. */
  readonly inputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What an attempt answers: the fact the host appends. */
export type TaskRunOutput = LearningPipelineEventOf<'taskSucceeded'> | LearningPipelineEventOf<'taskFailed'>;

/** Runs one attempt of a task; never throws for a failure of the task itself (that is `taskFailed`). */
export type TaskRunner = (input: TaskRunInput, signal: AbortSignal) => Promise<TaskRunOutput>;
