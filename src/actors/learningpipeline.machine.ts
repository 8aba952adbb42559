import { assign, fromPromise, setup } from 'xstate';
import { inputsOf, tasksOf } from '../domain/learning-pipeline/definition.js';
import {
  evolveLearningPipeline,
  initialLearningPipeline,
  type LearningPipelineEvent,
  type LearningPipelineState,
  nextTask,
} from '../domain/learning-pipeline/events.js';
import type { TaskRunInput, TaskRunOutput } from '../domain/learning-pipeline/task-run.js';

export const LEARNING_PIPELINE_MACHINE_VERSION = 1;

const after = (context: LearningPipelineState, event: LearningPipelineEvent) =>
  evolveLearningPipeline(context, event);

/** A task fact about the run and a task that is still to finish. */
const openTask = (context: LearningPipelineState, event: LearningPipelineEvent): boolean => {
  if (!('task' in event) || !('run' in event)) return false;
  const current = context.current;
  if (!current || current.run !== event.run) return false;
  const task = current.tasks.find((t) => t.id === event.task);
  return task !== undefined && (task.status === 'pending' || task.status === 'running');
};

/** The input of the next task of the current run. */
export function taskInput(context: LearningPipelineState): TaskRunInput {
  const current = context.current!;
  const task = nextTask(current)!;
  const state = current.tasks.find((t) => t.id === task.id)!;
  const inputs: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const [kind, id] of Object.entries(inputsOf(tasksOf(current.definition), task.id))) {
    const output = current.tasks.find((t) => t.id === id)?.output;
    if (output) inputs[kind] = output;
  }
  return {
    pipelineId: context.id,
    run: current.run,
    task,
    attempt: state.failures + 1,
    // The task is `running` when its last start had no result: this start follows a crash.
    interrupted: state.status === 'running' ? state.interrupted + 1 : state.interrupted,
    window: current.window,
    definition: current.definition,
    inputs,
  };
}

/**
 * A learning pipeline (`learningpipeline-<id>`): defined → idle ⇄ running → (paused | failed) → …
 * While running it invokes one task at a time (`task`: the next ready task of the run, highest
 * priority first); the host appends the attempt's result as `taskSucceeded` or `taskFailed`, which
 * re-enters `running` for the next task (or the same one, while it has retries left), or ends the run.
 * A crash mid-task leaves the stream in `running`: on restart the host starts that task again, and
 * only it; finished tasks keep their recorded outputs.
 */
export const learningPipelineMachine = setup({
  types: {
    context: {} as LearningPipelineState,
    events: {} as LearningPipelineEvent,
    input: {} as { id: string },
  },
  actors: {
    task: fromPromise<TaskRunOutput, TaskRunInput>(async () => {
      throw new Error('learning pipeline tasks need the service (see learningPipelineKind)');
    }),
  },
  guards: {
    openTask: ({ context, event }) => openTask(context, event),
    runDone: ({ context, event }) =>
      openTask(context, event) && after(context, event).current?.status === 'succeeded',
    runFailed: ({ context, event }) =>
      openTask(context, event) && after(context, event).current?.status === 'failed',
    currentRun: ({ context, event }) => 'run' in event && context.current?.run === event.run,
    nextRun: ({ context, event }) =>
      event.type === 'runRequested' && event.run === context.runs + 1 && context.definition !== null,
  },
  actions: { record: assign(({ context, event }) => evolveLearningPipeline(context, event)) },
}).createMachine({
  id: 'learningpipeline',
  context: ({ input }) => initialLearningPipeline(input.id),
  initial: 'undefined',
  states: {
    undefined: {
      on: { learningPipelineDefined: { target: 'idle', actions: 'record' } },
    },
    idle: {
      on: {
        learningPipelineDefined: { actions: 'record' },
        runRequested: { guard: 'nextRun', target: 'running', actions: 'record' },
        learningPipelineRemoved: { target: 'removed', actions: 'record' },
      },
    },
    running: {
      invoke: { id: 'task', src: 'task', input: ({ context }) => taskInput(context) },
      on: {
        taskStarted: { guard: 'openTask', actions: 'record' },
        taskSucceeded: [
          { guard: 'runDone', target: 'idle', actions: 'record' },
          { guard: 'openTask', target: 'running', reenter: true, actions: 'record' },
        ],
        taskFailed: [
          { guard: 'runFailed', target: 'failed', actions: 'record' },
          { guard: 'openTask', target: 'running', reenter: true, actions: 'record' },
        ],
        runPaused: { guard: 'currentRun', target: 'paused', actions: 'record' },
        runCancelled: { guard: 'currentRun', target: 'idle', actions: 'record' },
      },
    },
    paused: {
      on: {
        runResumed: { guard: 'currentRun', target: 'running', actions: 'record' },
        runCancelled: { guard: 'currentRun', target: 'idle', actions: 'record' },
      },
    },
    failed: {
      on: {
        runResumed: { guard: 'currentRun', target: 'running', actions: 'record' },
        runRequested: { guard: 'nextRun', target: 'running', actions: 'record' },
        runCancelled: { guard: 'currentRun', target: 'idle', actions: 'record' },
        learningPipelineDefined: { target: 'idle', actions: 'record' },
        learningPipelineRemoved: { target: 'removed', actions: 'record' },
      },
    },
    removed: { type: 'final' },
  },
});
