import { z } from 'zod';
import { LearningPipelineDefinition, type TaskSpec, tasksOf } from './definition.js';

/**
 * A learning pipeline's facts, as they stand in its stream (`learningpipeline-<id>`): its definitions,
 * each run asked for (with its time window resolved, so a run resumed after a crash reads the same
 * rows), each task's starts, results and failures, pauses, resumptions and cancellations. A task's
 * output (a summary, and the content hash of anything large kept beside the log) is recorded when it
 * succeeds, so a resumed run never redoes a finished task.
 */
export const LEARNING_PIPELINE_EVENT_SCHEMA_VERSION = 1;

const run = z.number().int().positive();
const at = z.number().int();
const task = z.string().min(1).max(64);
const attempt = z.number().int().positive();
export const RunTrigger = z.enum(['manual', 'schedule', 'data']);
export type RunTrigger = z.infer<typeof RunTrigger>;
export const RunWindow = z.object({ from: z.number().int(), to: z.number().int() });
export type RunWindow = z.infer<typeof RunWindow>;

export const LearningPipelineEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('learningPipelineDefined'), definition: LearningPipelineDefinition, at }),
  z.object({ type: z.literal('runRequested'), run, trigger: RunTrigger, window: RunWindow, at }),
  z.object({
    type: z.literal('taskStarted'),
    run,
    task,
    attempt,
    at,
    /** The process that started it (a start after a crash shows another one). */
    instance: z.string().max(100),
  }),
  z.object({
    type: z.literal('taskSucceeded'),
    run,
    task,
    attempt,
    at,
    ms: z.number().min(0),
    output: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('taskFailed'),
    run,
    task,
    attempt,
    at,
    error: z.string().min(1).max(2000),
  }),
  z.object({ type: z.literal('runPaused'), run, at }),
  z.object({ type: z.literal('runResumed'), run, at }),
  z.object({ type: z.literal('runCancelled'), run, at, why: z.string().max(500).optional() }),
  z.object({ type: z.literal('learningPipelineRemoved'), at }),
]);
export type LearningPipelineEvent = z.infer<typeof LearningPipelineEvent>;
export type LearningPipelineEventOf<T extends LearningPipelineEvent['type']> = Extract<
  LearningPipelineEvent,
  { type: T }
>;

/** Finished runs kept in the state besides the latest (older ones are in the log). */
export const RECENT_RUNS = 10;

export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type RunStatus = 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskState {
  readonly id: string;
  readonly kind: TaskSpec['kind'];
  readonly status: TaskStatus;
  /** Failed attempts since the run (or its last resumption) began this task. */
  readonly failures: number;
  /** Attempts started, crashes and resumptions included. */
  readonly starts: number;
  /** Starts in a row with no result: attempts the process stopped during (a crash, a kill). */
  readonly interrupted: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly ms: number | null;
  readonly error: string | null;
  readonly output: Readonly<Record<string, unknown>> | null;
}

export interface RunState {
  readonly run: number;
  readonly trigger: RunTrigger;
  readonly window: RunWindow;
  readonly status: RunStatus;
  readonly requestedAt: number;
  readonly finishedAt: number | null;
  /** The definition as it was when the run was asked for. */
  readonly definition: LearningPipelineDefinition;
  readonly tasks: readonly TaskState[];
}

export interface LearningPipelineState {
  readonly id: string;
  readonly definition: LearningPipelineDefinition | null;
  readonly definedAt: number | null;
  readonly runs: number;
  /** The latest run, whatever its status. */
  readonly current: RunState | null;
  /** The runs before it, newest first (at most `RECENT_RUNS`). */
  readonly recent: readonly RunState[];
  /** The window end of the last run that succeeded (realtime runs start there). */
  readonly lastSucceededTo: number | null;
  readonly lastRequestedAt: number | null;
  readonly removed: boolean;
}

export const initialLearningPipeline = (id: string): LearningPipelineState => ({
  id,
  definition: null,
  definedAt: null,
  runs: 0,
  current: null,
  recent: [],
  lastSucceededTo: null,
  lastRequestedAt: null,
  removed: false,
});

const freshTask = (t: TaskSpec): TaskState => ({
  id: t.id,
  kind: t.kind,
  status: 'pending',
  failures: 0,
  starts: 0,
  interrupted: 0,
  startedAt: null,
  finishedAt: null,
  ms: null,
  error: null,
  output: null,
});

/** The task to run next: ready (every dependency succeeded), not yet succeeded; highest priority first. */
export function nextTask(runState: RunState): TaskSpec | null {
  const specs = tasksOf(runState.definition);
  const status = new Map(runState.tasks.map((t) => [t.id, t.status]));
  const ready = specs.filter(
    (s) => status.get(s.id) !== 'succeeded' && s.dependsOn.every((d) => status.get(d) === 'succeeded'),
  );
  if (!ready.length) return null;
  return ready.reduce((best, s) => (s.priority > best.priority ? s : best), ready[0]!);
}

function withTask(
  state: LearningPipelineState,
  runNumber: number,
  id: string,
  change: (t: TaskState, spec: TaskSpec) => TaskState,
  runChange: (r: RunState) => Partial<RunState> = () => ({}),
): LearningPipelineState {
  const current = state.current;
  if (!current || current.run !== runNumber) return state;
  const spec = tasksOf(current.definition).find((s) => s.id === id);
  if (!spec) return state;
  const tasks = current.tasks.map((t) => (t.id === id ? change(t, spec) : t));
  const next = { ...current, tasks };
  return { ...state, current: { ...next, ...runChange(next) } };
}

/** The pure fold of a learning pipeline's facts. */
export function evolveLearningPipeline(
  state: LearningPipelineState,
  event: LearningPipelineEvent,
): LearningPipelineState {
  switch (event.type) {
    case 'learningPipelineDefined':
      return { ...state, definition: event.definition, definedAt: event.at };
    case 'runRequested':
      return {
        ...state,
        recent: state.current ? [state.current, ...state.recent].slice(0, RECENT_RUNS) : state.recent,
        runs: event.run,
        lastRequestedAt: event.at,
        current: {
          run: event.run,
          trigger: event.trigger,
          window: event.window,
          status: 'running',
          requestedAt: event.at,
          finishedAt: null,
          definition: state.definition!,
          tasks: tasksOf(state.definition!).map(freshTask),
        },
      };
    case 'taskStarted':
      return withTask(state, event.run, event.task, (t) => ({
        ...t,
        status: 'running',
        starts: t.starts + 1,
        // A start while the last one is still open: that one was cut short.
        interrupted: t.status === 'running' ? t.interrupted + 1 : t.interrupted,
        startedAt: event.at,
        error: null,
      }));
    case 'taskSucceeded': {
      const next = withTask(state, event.run, event.task, (t) => ({
        ...t,
        status: 'succeeded',
        interrupted: 0,
        finishedAt: event.at,
        ms: event.ms,
        output: event.output,
        error: null,
      }));
      const current = next.current;
      if (!current || current.run !== event.run || !current.tasks.every((t) => t.status === 'succeeded'))
        return next;
      return {
        ...next,
        current: { ...current, status: 'succeeded', finishedAt: event.at },
        lastSucceededTo: current.window.to,
      };
    }
    case 'taskFailed':
      return withTask(
        state,
        event.run,
        event.task,
        (t, spec) => ({
          ...t,
          status: t.failures + 1 > spec.retries ? 'failed' : 'pending',
          failures: t.failures + 1,
          interrupted: 0,
          finishedAt: event.at,
          error: event.error,
        }),
        (r) => (r.tasks.some((t) => t.status === 'failed') ? { status: 'failed', finishedAt: event.at } : {}),
      );
    case 'runPaused':
      return state.current?.run === event.run
        ? {
            ...state,
            current: {
              ...state.current,
              status: 'paused',
              tasks: state.current.tasks.map((t) =>
                t.status === 'running' ? { ...t, status: 'pending' } : t,
              ),
            },
          }
        : state;
    case 'runResumed':
      // The run goes on at its first unfinished task; a task that had failed gets its retries again.
      return state.current?.run === event.run
        ? {
            ...state,
            current: {
              ...state.current,
              status: 'running',
              finishedAt: null,
              tasks: state.current.tasks.map((t) =>
                t.status === 'failed' || t.status === 'running'
                  ? { ...t, status: 'pending', failures: 0 }
                  : t,
              ),
            },
          }
        : state;
    case 'runCancelled':
      return state.current?.run === event.run
        ? { ...state, current: { ...state.current, status: 'cancelled', finishedAt: event.at } }
        : state;
    case 'learningPipelineRemoved':
      return { ...state, removed: true };
    default:
      return state;
  }
}

/** The share of the run's tasks that succeeded. */
export const progressOf = (r: RunState): number =>
  r.tasks.length ? r.tasks.filter((t) => t.status === 'succeeded').length / r.tasks.length : 0;
