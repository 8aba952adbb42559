import type { RunState, TaskState } from '../domain/learning-pipeline/events.js';
import { progressOf } from '../domain/learning-pipeline/events.js';
import type { BuiltInKind } from '../learning-pipelines/built-in.js';
import {
  type LearningPipelines,
  type LearningPipelineView,
  nextDueAt,
} from '../learning-pipelines/pipelines.js';
import type { RecordedEvent } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import { MUTATION_ERRORS } from './error-types.js';
import { tailLog } from './log-tail.js';

/**
 * Learning pipelines (`learningpipeline-<id>`): their definitions, runs and each task's progress, the
 * commands that define, run, pause, resume and cancel them (admin), and their progress live.
 */

type JsonObject = Record<string, unknown>;

const TaskRef = builder.objectRef<TaskState>('LearningPipelineTask').implement({
  description: 'One task of a run: its status, attempts, timing, and its output once it succeeded.',
  fields: (t) => ({
    id: t.exposeString('id'),
    kind: t.exposeString('kind', { description: 'read | features | train | evaluate | register | promote' }),
    status: t.exposeString('status', { description: 'pending | running | succeeded | failed' }),
    starts: t.exposeInt('starts', { description: 'Attempts started (a restart after a crash counts).' }),
    failures: t.exposeInt('failures', { description: 'Failed attempts since the run last began it.' }),
    interrupted: t.exposeInt('interrupted', {
      description: 'Starts in a row the process stopped during (a crash); past its retries the task fails.',
    }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.finishedAt }),
    ms: t.float({ nullable: true, resolve: (s) => s.ms }),
    error: t.string({ nullable: true, resolve: (s) => s.error }),
    output: t.field({ type: 'JSONObject', nullable: true, resolve: (s) => (s.output as JsonObject) ?? null }),
  }),
});

const RunRef = builder.objectRef<RunState>('LearningPipelineRun').implement({
  description: 'A run of a learning pipeline: what started it, the window it reads, and its tasks.',
  fields: (t) => ({
    run: t.exposeInt('run'),
    trigger: t.exposeString('trigger', { description: 'manual | schedule | data' }),
    status: t.exposeString('status', { description: 'running | paused | succeeded | failed | cancelled' }),
    from: t.field({ type: 'DateTime', resolve: (r) => r.window.from }),
    to: t.field({ type: 'DateTime', resolve: (r) => r.window.to }),
    requestedAt: t.field({ type: 'DateTime', resolve: (r) => r.requestedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.finishedAt }),
    progress: t.float({ description: 'The share of its tasks that succeeded (0–1).', resolve: progressOf }),
    tasks: t.field({ type: [TaskRef], resolve: (r) => [...r.tasks] }),
  }),
});

const PipelineRef = builder.objectRef<LearningPipelineView>('LearningPipeline').implement({
  description: 'A learning pipeline: its definition, its state and its latest run.',
  fields: (t) => ({
    id: t.exposeString('id'),
    state: t.exposeString('state', { description: 'idle | running | paused | failed | removed' }),
    definition: t.field({
      type: 'JSONObject',
      nullable: true,
      description: 'The definition in force, defaults filled in.',
      resolve: (p) => (p.context.definition as unknown as JsonObject) ?? null,
    }),
    modelId: t.string({ nullable: true, resolve: (p) => p.context.definition?.modelId ?? null }),
    mode: t.string({ nullable: true, resolve: (p) => p.context.definition?.mode ?? null }),
    builtIn: t.string({ nullable: true, resolve: (p) => p.context.definition?.builtIn ?? null }),
    runs: t.int({ description: 'Runs asked for so far.', resolve: (p) => p.context.runs }),
    nextRunAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the scheduler starts its next run (null: only by hand).',
      resolve: (p) => (p.state === 'removed' ? null : nextDueAt(p.context)),
    }),
    currentRun: t.field({
      type: RunRef,
      nullable: true,
      description: 'Its latest run, whatever its status.',
      resolve: (p) => p.context.current,
    }),
    recentRuns: t.field({
      type: [RunRef],
      description: 'The runs before the latest, newest first (the last 10; every run is in its stream).',
      resolve: (p) => [...(p.context.recent ?? [])],
    }),
  }),
});

const ChangeRef = builder
  .objectRef<{ event: RecordedEvent; pipeline: LearningPipelineView }>('LearningPipelineChange')
  .implement({
    description: "One fact of a pipeline's stream and the pipeline as it stood right after it.",
    fields: (t) => ({
      type: t.string({ resolve: (c) => c.event.type }),
      position: t.field({ type: 'Position', resolve: (c) => c.event.position }),
      principal: t.string({
        nullable: true,
        resolve: (c) => (c.event.metadata.principal as string | undefined) ?? null,
      }),
      pipeline: t.field({ type: PipelineRef, resolve: (c) => c.pipeline }),
    }),
  });

const BuiltIn = builder.enumType('LearningPipelineBuiltIn', {
  description:
    'FAILURE_PREDICTION: a classifier of "an alert within the horizon"; OPERATIONAL_STATE: k-means states named by their centres; BASELINE: the expected next value of a metric, updated as data arrives.',
  values: {
    FAILURE_PREDICTION: { value: 'failurePrediction' },
    OPERATIONAL_STATE: { value: 'operationalState' },
    BASELINE: { value: 'baseline' },
  } as const,
});

builder.queryFields((t) => ({
  learningPipelines: t.field({
    type: [PipelineRef],
    description: 'Every learning pipeline (removed ones with includeRemoved).',
    args: { includeRemoved: t.arg.boolean() },
    resolve: async (_root, args, ctx) =>
      (await ctx.learningPipelines.list()).filter((p) => args.includeRemoved || p.state !== 'removed'),
  }),
  learningPipeline: t.field({
    type: PipelineRef,
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.learningPipelines.get(args.id),
  }),
}));

type Act = (pipelines: LearningPipelines, id: string, principal: string) => Promise<LearningPipelineView>;
const command = (description: string, act: Act) => ({ description, act });

const COMMANDS = {
  runLearningPipeline: command('Starts a run now (recorded as `runRequested`, trigger manual).', (c, id, p) =>
    c.run(id, p),
  ),
  pauseLearningPipeline: command(
    'Pauses the running run: the task in progress is stopped; finished tasks keep their outputs.',
    (c, id, p) => c.pause(id, p),
  ),
  resumeLearningPipeline: command(
    'Resumes a paused or failed run at its first unfinished task (a failed task gets its retries again).',
    (c, id, p) => c.resume(id, p),
  ),
  cancelLearningPipelineRun: command('Cancels the paused or running run.', (c, id, p) => c.cancel(id, p)),
  removeLearningPipeline: command('Removes the pipeline (its history stays in the log).', (c, id, p) =>
    c.remove(id, p),
  ),
} as const;

builder.mutationFields((t) => ({
  defineLearningPipeline: t.field({
    type: PipelineRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description:
      'Defines (or redefines, when no run is in progress) a learning pipeline: see docs/learning.md#learning-pipelines for the definition.',
    args: {
      id: t.arg.string({ required: true }),
      definition: t.arg({ type: 'JSONObject', required: true }),
    },
    resolve: (_root, args, ctx) => ctx.learningPipelines.define(args.id, args.definition, ctx.caller.id),
  }),
  defineBuiltInLearningPipeline: t.field({
    type: PipelineRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Defines one of the built-in pipelines for a component (options: see docs/learning.md).',
    args: {
      id: t.arg.string({ required: true }),
      kind: t.arg({ type: BuiltIn, required: true }),
      options: t.arg({ type: 'JSONObject', required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.learningPipelines.defineBuiltIn(args.id, args.kind as BuiltInKind, args.options, ctx.caller.id),
  }),
  ...Object.fromEntries(
    Object.entries(COMMANDS).map(([name, c]) => [
      name,
      t.field({
        type: PipelineRef,
        authScopes: { admin: true },
        errors: { types: MUTATION_ERRORS },
        description: c.description,
        args: { id: t.arg.string({ required: true }) },
        resolve: (_root, args, ctx) => c.act(ctx.learningPipelines, args.id, ctx.caller.id),
      }),
    ]),
  ),
}));

builder.subscriptionFields((t) => ({
  learningPipelineProgress: t.field({
    type: ChangeRef,
    description:
      "A pipeline's facts as they are recorded (definitions, runs, task starts, results, failures), each with the pipeline as it stood after it; resume with `after`.",
    args: { id: t.arg.string({ required: true }), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<RecordedEvent>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['learningpipeline'] },
        map: (event) => (event.streamId === `learningpipeline-${args.id}` ? [event] : []),
      }),
    resolve: async (event, args, ctx) => ({
      event,
      pipeline: await ctx.learningPipelines.stateAt(args.id, event.revision),
    }),
  }),
}));
