import { fromPromise } from 'xstate';
import {
  LEARNING_PIPELINE_EVENT_SCHEMA_VERSION,
  LearningPipelineEvent,
} from '../domain/learning-pipeline/events.js';
import type { TaskRunInput, TaskRunner, TaskRunOutput } from '../domain/learning-pipeline/task-run.js';
import { defineActorKind } from './actor-kind.js';
import { LEARNING_PIPELINE_MACHINE_VERSION, learningPipelineMachine } from './learningpipeline.machine.js';
import { parseWith } from './parse.js';

/**
 * The learning pipeline kind. With a task runner (the service's: ClickHouse, the worker pool, the
 * model registry) its tasks run; without one (the audit API folding streams) a task that would start
 * fails, which nothing records since such a host never appends.
 */
export function learningPipelineKind(runner?: TaskRunner) {
  const machine = runner
    ? learningPipelineMachine.provide({
        actors: {
          task: fromPromise<TaskRunOutput, TaskRunInput>(({ input, signal }) => runner(input, signal)),
        },
      })
    : learningPipelineMachine;
  return defineActorKind({
    kind: 'learningpipeline',
    machine,
    machineVersion: LEARNING_PIPELINE_MACHINE_VERSION,
    schemaVersion: LEARNING_PIPELINE_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(LearningPipelineEvent, input),
    effectFailed: () => null,
  });
}
