import { resolveArrayConnection } from '@pothos/plugin-relay';
import type { Baseline } from '../coordinator/coordinator.js';
import { CoordinatorPolicy } from '../domain/coordinator/events.js';
import { readFact } from '../domain/facts.js';
import type { RecordedEvent } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import { parseInput } from './configuration/shared.js';
import { MUTATION_ERRORS } from './error-types.js';
import { tailLog } from './log-tail.js';

/**
 * The learning coordinator (`coordinator-main`): the models it watches, each one's baseline and recent
 * error, and its decisions (degradations, drifts, retrainings triggered, merged or deferred triggers,
 * promotion decisions), each a fact of its stream.
 */

const STREAM = 'coordinator-main';
/** Facts that are the coordinator's own decisions (watching and unwatching are the admins'). */
const DECISIONS = [
  'degradationDetected',
  'driftDetected',
  'retrainingTriggered',
  'triggerMerged',
  'triggerDeferred',
  'promotionDecided',
];

interface Decision {
  readonly id: string;
  readonly type: string;
  readonly modelId: string;
  readonly position: bigint;
  readonly at: number;
  readonly data: Record<string, unknown>;
}

const decisionOf = (event: RecordedEvent): Decision[] => {
  if (event.streamId !== STREAM || !DECISIONS.includes(event.type)) return [];
  const fact = readFact(event);
  const data = fact.data as unknown as Record<string, unknown>;
  return [
    {
      id: event.id,
      type: event.type,
      modelId: String(data.modelId),
      position: event.position,
      at: typeof data.at === 'number' ? data.at : event.createdAt.getTime(),
      data,
    },
  ];
};

const BaselineRef = builder.objectRef<Baseline>('ModelBaseline').implement({
  description: "A watched model's deployed version: its holdout error and its error on rows since.",
  fields: (t) => ({
    modelId: t.exposeString('modelId'),
    version: t.exposeInt('version'),
    metric: t.exposeString('metric', {
      description: 'The error measured: rmse (regression) or 1 - f1 (classification).',
    }),
    baseline: t.exposeFloat('baseline', { description: 'Holdout error recorded with the version.' }),
    recent: t.float({
      nullable: true,
      resolve: (b) => b.recent,
      description: 'The error on rows after its window.',
    }),
    ratio: t.float({ nullable: true, resolve: (b) => b.ratio, description: 'recent / baseline.' }),
    rows: t.exposeInt('rows'),
    measuredAt: t.field({ type: 'DateTime', resolve: (b) => b.measuredAt }),
  }),
});

const WatchedRef = builder
  .objectRef<{ modelId: string; policy: CoordinatorPolicy; watchedAt: number }>('WatchedModel')
  .implement({
    fields: (t) => ({
      modelId: t.exposeString('modelId'),
      degradationFactor: t.float({ resolve: (w) => w.policy.degradationFactor }),
      scheduleMs: t.int({ resolve: (w) => w.policy.scheduleMs }),
      debounceMs: t.int({ resolve: (w) => w.policy.debounceMs }),
      watchedAt: t.field({ type: 'DateTime', resolve: (w) => w.watchedAt }),
    }),
  });

const DecisionRef = builder.objectRef<Decision>('CoordinatorDecision').implement({
  description: 'One fact the coordinator recorded: what it found or decided, with its evidence.',
  fields: (t) => ({
    eventId: t.exposeString('id'),
    type: t.exposeString('type', {
      description:
        'degradationDetected | driftDetected | retrainingTriggered | triggerMerged | triggerDeferred | promotionDecided',
    }),
    modelId: t.exposeString('modelId'),
    position: t.field({ type: 'Position', resolve: (d) => d.position }),
    at: t.field({ type: 'DateTime', resolve: (d) => d.at }),
    data: t.field({ type: 'JSON', resolve: (d) => d.data }),
  }),
});

const CoordinatorRef = builder.objectRef<object>('Coordinator').implement({
  description: 'The learning coordinator: watched models, their baselines, its decisions.',
  fields: (t) => ({
    watched: t.field({
      type: [WatchedRef],
      resolve: async (_c, _a, ctx) =>
        Object.entries((await ctx.coordinator.state()).watched).map(([modelId, w]) => ({ modelId, ...w })),
    }),
    baselines: t.field({ type: [BaselineRef], resolve: (_c, _a, ctx) => ctx.coordinator.baselines() }),
    decisions: t.connection({
      type: DecisionRef,
      description: 'Its decisions, oldest first.',
      resolve: async (_c, args, ctx) => {
        const all: Decision[] = [];
        for await (const event of ctx.events.readStream(STREAM)) all.push(...decisionOf(event));
        return resolveArrayConnection({ args, defaultSize: 100, maxSize: 1000 }, all);
      },
    }),
  }),
});

const PolicyInput = builder.inputType('CoordinatorPolicyInput', {
  fields: (t) => ({
    degradationFactor: t.float({
      required: true,
      description: 'Degraded when recent error > baseline × this.',
    }),
    scheduleMs: t.int({ description: 'Retrain every this many ms as well (0 or absent: never).' }),
    debounceMs: t.int({ description: 'A trigger within this many ms of the last is deferred (default 0).' }),
  }),
});

builder.queryFields((t) => ({
  coordinator: t.field({
    type: CoordinatorRef,
    description: 'The learning coordinator.',
    resolve: () => ({}),
  }),
}));

builder.mutationFields((t) => ({
  watchModel: t.field({
    type: CoordinatorRef,
    errors: { types: MUTATION_ERRORS },
    authScopes: { admin: true },
    description: 'The coordinator watches a model with this policy (recorded as `modelWatched`).',
    args: { modelId: t.arg.string({ required: true }), policy: t.arg({ type: PolicyInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const policy = parseInput(
        CoordinatorPolicy,
        {
          degradationFactor: args.policy.degradationFactor,
          scheduleMs: args.policy.scheduleMs ?? 0,
          debounceMs: args.policy.debounceMs ?? 0,
        },
        'policy',
      );
      await ctx.coordinator.watch(args.modelId, policy, ctx.caller.id);
      return {};
    },
  }),
  unwatchModel: t.field({
    type: CoordinatorRef,
    errors: { types: MUTATION_ERRORS },
    authScopes: { admin: true },
    description: 'The coordinator stops watching a model (recorded as `modelUnwatched`).',
    args: { modelId: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.coordinator.unwatch(args.modelId, ctx.caller.id);
      return {};
    },
  }),
}));

builder.subscriptionFields((t) => ({
  coordinatorDecision: t.field({
    type: DecisionRef,
    description: "The coordinator's decisions as they are recorded; resume with `after`.",
    args: { after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<Decision>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['coordinator'], eventTypes: DECISIONS },
        map: decisionOf,
      }),
    resolve: (d) => d,
  }),
}));
