import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskKind } from '../../domain/learning-pipeline/definition.js';
import type { TaskRunInput, TaskRunner, TaskRunOutput } from '../../domain/learning-pipeline/task-run.js';
import { pipelinePrincipal, type TaskDeps, type TaskFn } from './deps.js';
import { evaluateTask } from './evaluate.js';
import { featuresTask } from './features.js';
import { promoteTask } from './promote.js';
import { readTask } from './read.js';
import { registerTask } from './register.js';
import { trainTask } from './train.js';

const TASKS: Readonly<Record<TaskKind, TaskFn>> = {
  read: readTask,
  features: featuresTask,
  train: trainTask,
  evaluate: evaluateTask,
  register: registerTask,
  promote: promoteTask,
};

/** The wait before a retry: 1 s, 2 s, 4 s, … at most 30 s. */
export const retryDelayMs = (attempt: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 2));

/** This process, as recorded with each task start (a start after a crash names another process). */
const INSTANCE = `${hostname()}#${process.pid}`;

class TaskTimeout extends Error {}

/**
 * Runs one attempt of a task: records `taskStarted` in the pipeline's stream (who runs it, which
 * attempt), waits before a retry, runs the task with its timeout, and answers `taskSucceeded` with the
 * task's output or `taskFailed` with the reason. A pause or cancellation stops the attempt (its
 * result is then not recorded).
 */
export function createTaskRunner(deps: TaskDeps): TaskRunner {
  return async (input: TaskRunInput, signal: AbortSignal): Promise<TaskRunOutput> => {
    const { pipelineId, run, task, attempt } = input;
    const base = { run, task: task.id, attempt };
    // A task the process keeps dying during (out of memory, say) fails like any other, not in a loop.
    if (input.interrupted > task.retries)
      return {
        type: 'taskFailed',
        ...base,
        at: deps.now(),
        error: `the process stopped during this task ${input.interrupted} times in a row`,
      };
    if (attempt > 1) await sleep(retryDelayMs(attempt), undefined, { signal });
    const startedAt = deps.now();
    try {
      await deps
        .host()
        .send(
          { kind: 'learningpipeline', id: pipelineId },
          { type: 'taskStarted', ...base, at: startedAt, instance: INSTANCE },
          { principal: pipelinePrincipal(pipelineId) },
        );
    } catch (error) {
      // Paused or cancelled meanwhile: this attempt is over and nothing is to be recorded.
      if (signal.aborted) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      return {
        type: 'taskFailed',
        ...base,
        at: deps.now(),
        error: `could not record the start: ${reason}`.slice(0, 2000),
      };
    }
    let timer: NodeJS.Timeout | undefined;
    // The attempt's own signal: the pause or cancel (already given, too, if it came while the start
    // was being recorded), its timeout, or its end. Each stops what the task has running (a job in the
    // learning pool has its worker stopped), not only the wait for its result.
    const own = new AbortController();
    const attemptSignal = AbortSignal.any([signal, own.signal]);
    try {
      const output = await Promise.race([
        TASKS[task.kind](input, deps, attemptSignal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const timeout = new TaskTimeout(`timed out after ${task.timeoutMs} ms`);
            own.abort(timeout);
            reject(timeout);
          }, task.timeoutMs);
        }),
      ]);
      return {
        type: 'taskSucceeded',
        ...base,
        at: deps.now(),
        ms: Math.max(0, deps.now() - startedAt),
        output: JSON.parse(JSON.stringify(output)) as Record<string, unknown>,
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message || error.name : String(error);
      return { type: 'taskFailed', ...base, at: deps.now(), error: reason.slice(0, 2000) || 'failed' };
    } finally {
      clearTimeout(timer);
      own.abort(new Error('the attempt is over'));
    }
  };
}
