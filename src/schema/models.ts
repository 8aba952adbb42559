import { resolveArrayConnection } from '@pothos/plugin-relay';
import { z } from 'zod';
import type { TrainingSpec } from '../domain/model/events.js';
import { ALGORITHM_NAMES } from '../learning/algorithm.js';
import { DatasetSpec } from '../learning/features/dataset-spec.js';
import { FeaturePipelineSpec } from '../learning/features/pipeline-spec.js';
import type { RecordedEvent } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import { parseInput } from './configuration/shared.js';
import { MUTATION_ERRORS } from './error-types.js';
import { tailLog } from './log-tail.js';
import {
  asJson,
  Comparison,
  ModelChange,
  ModelRef,
  ModelVersionRef,
  Prediction,
  RegisterModelInput,
  TrainModelInput,
  versionsOf,
} from './model-types.js';

/**
 * Models as actors (`model-<id>`): registered, trained (each run a version recording its recipe, data
 * window, holdout metrics and fitted parameters), promoted, rolled back, retired; and predictions with
 * a version kept in memory. Every mutation is the admins', records who asked, and is idempotent under
 * the client's `id` (the host's command id).
 */

/** GraphQL gives absent optional fields as null; the schemas take them as absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, withoutNulls(v)]])),
  );
}

const RecipeInput = z.object({
  algorithm: z.enum(ALGORITHM_NAMES),
  implementation: z.string().min(1).max(100).optional(),
  task: z.enum(['classification', 'regression', 'clustering']),
  params: z.record(z.string(), z.unknown()).default({}),
  seed: z.number().int().default(0),
  features: FeaturePipelineSpec.default({ select: [], scale: 'none' }),
  dataset: DatasetSpec,
  testFraction: z.number().gt(0).lt(1).default(0.2),
});
const Overrides = RecipeInput.partial().extend({
  params: z.record(z.string(), z.unknown()).optional(),
  seed: z.number().int().optional(),
  features: FeaturePipelineSpec.optional(),
  testFraction: z.number().gt(0).lt(1).optional(),
});

/** The parsed recipe as recorded (the pipeline and dataset as JSON objects, defaults filled in). */
function recipeOf(input: z.output<typeof RecipeInput>): TrainingSpec {
  return { ...input, features: asJson(input.features), dataset: asJson(input.dataset) };
}

builder.queryFields((t) => ({
  models: t.connection({
    type: ModelRef,
    description: 'Every model, by id.',
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection({ args, defaultSize: 100, maxSize: 1000 }, await ctx.models.list()),
  }),
  model: t.field({
    type: ModelRef,
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.models.find(args.id),
  }),
  modelVersions: t.field({
    type: [ModelVersionRef],
    args: { id: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const m = await ctx.models.find(args.id);
      return m ? versionsOf(m) : [];
    },
  }),
  compareModelVersions: t.field({
    type: Comparison,
    args: {
      id: t.arg.string({ required: true }),
      a: t.arg.int({ required: true }),
      b: t.arg.int({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.models.compare(args.id, args.a, args.b),
  }),
  predict: t.field({
    type: Prediction,
    description:
      'Predictions of the deployed version (or `version`), in process, the version kept loaded: for `rows` (the dataset columns, before the feature pipeline), or for the rows its recipe builds from series over [from, to). Not recorded.',
    args: {
      modelId: t.arg.string({ required: true }),
      version: t.arg.int(),
      rows: t.arg({ type: t.arg.listRef(t.arg.listRef('Float')) }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.models.predict(args.modelId, {
        version: args.version ?? null,
        rows: (args.rows as number[][] | null | undefined) ?? null,
        from: args.from ?? null,
        to: args.to ?? null,
      }),
  }),
}));

const caller = (ctx: { caller: { id: string } }, id: string | null | undefined) => ({
  principal: ctx.caller.id,
  ...(id ? { commandId: id } : {}),
});
builder.mutationFields((t) => ({
  registerModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    args: {
      modelId: t.arg.string({ required: true }),
      input: t.arg({ type: RegisterModelInput, required: true }),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: (_root, args, ctx) => {
      const { name, description, ...rest } = withoutNulls(args.input) as {
        name: string;
        description?: string;
      };
      const spec = recipeOf(parseInput(RecipeInput, rest, 'input'));
      return ctx.models.register(
        args.modelId,
        { name, ...(description ? { description } : {}), spec },
        caller(ctx, args.id),
      );
    },
  }),
  trainModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Trains a new version: the registered recipe with these overrides; runs in the worker pool.',
    args: {
      modelId: t.arg.string({ required: true }),
      input: t.arg({ type: TrainModelInput }),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: (_root, args, ctx) => {
      const o = parseInput(Overrides, withoutNulls(args.input ?? {}), 'input');
      const overrides: Partial<TrainingSpec> = {
        ...o,
        ...(o.features ? { features: asJson(o.features) } : {}),
        ...(o.dataset ? { dataset: asJson(o.dataset) } : {}),
      } as Partial<TrainingSpec>;
      return ctx.models.train(args.modelId, overrides, caller(ctx, args.id));
    },
  }),
  retrainModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description:
      "Trains a new version with a version's recipe (default: the latest) on a new time range (series datasets; default: as long as before, ending now).",
    args: {
      modelId: t.arg.string({ required: true }),
      version: t.arg.int(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const m = await ctx.models.get(args.modelId);
      const base = args.version ?? m.context.versions.at(-1)?.version;
      const v = base === undefined ? undefined : m.context.versions.find((x) => x.version === base);
      const spec = v?.spec ?? m.context.spec;
      const series = (spec?.dataset as { fromSeries?: { from: number; to: number } } | undefined)?.fromSeries;
      const overrides: Partial<TrainingSpec> = {};
      if (series) {
        const to = args.to ?? Date.now();
        const from = args.from ?? to - (series.to - series.from);
        overrides.dataset = { fromSeries: { ...series, from, to } };
      }
      return ctx.models.train(args.modelId, overrides, caller(ctx, args.id), v?.version);
    },
  }),
  promoteModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Deploys a trained version: predictions use it from now on.',
    args: {
      modelId: t.arg.string({ required: true }),
      version: t.arg.int({ required: true }),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const view = await ctx.models.promote(args.modelId, args.version, caller(ctx, args.id));
      await ctx.models.warm(args.modelId);
      return view;
    },
  }),
  rollbackModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Deploys an earlier version than the deployed one (default: the latest earlier one).',
    args: {
      modelId: t.arg.string({ required: true }),
      version: t.arg.int(),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const view = await ctx.models.rollback(args.modelId, args.version ?? null, caller(ctx, args.id));
      await ctx.models.warm(args.modelId);
      return view;
    },
  }),
  retireModel: t.field({
    type: ModelRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    args: {
      modelId: t.arg.string({ required: true }),
      reason: t.arg.string(),
      id: t.arg.string({
        description: 'Client command id: a retry with the same id is answered, not repeated.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.models.retire(args.modelId, args.reason ?? undefined, caller(ctx, args.id)),
  }),
}));

builder.subscriptionFields((t) => ({
  modelChanged: t.field({
    type: ModelChange,
    description:
      "Each fact of the model's stream as it is appended, with the model's state after it; resume with `after`.",
    args: { id: t.arg.string({ required: true }), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<RecordedEvent>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['model'] },
        map: (event) => (event.streamId === `model-${args.id}` ? [event] : []),
      }),
    resolve: async (event, args, ctx) => ({
      event,
      model: await ctx.models.stateAt(args.id, event.revision),
    }),
  }),
}));
