import { resolveArrayConnection } from '@pothos/plugin-relay';
import type { ConfigEntry } from '../domain/configuration/entry.js';
import { ValidationError } from '../domain/errors.js';
import type { ForecastMade, ForecastScored, ScoredPoint } from '../domain/forecasting/forecasts.js';
import { ForecastRuleDefinition } from '../domain/forecasting/rules.js';
import type { SeriesForecast } from '../forecasting/compute.js';
import {
  type ForecastErrorRow,
  type ForecastPointRow,
  findForecastErrors,
  findForecastPoints,
} from '../projections/forecasts/index.js';
import { idsOf } from '../projections/metric-series/range.js';
import type { Position } from '../stores/event-store/port.js';
import { findingsConnection, rangeOf, seriesIdArg } from './arguments.js';
import { builder } from './builder.js';
import { defined, entryFields, parseInput, visible } from './configuration/shared.js';
import type { GraphQLContext } from './context.js';
import { MUTATION_ERRORS } from './error-types.js';
import { badInput } from './errors.js';
import { JSONObject } from './json.js';
import { factFeed } from './log-tail.js';
import { answer, SeriesSelectorInput, selectorOf } from './series.js';

/** Forecasts: rules (operator), forecasts on request, scheduled forecasts and their scores. */

const ForecastRule = builder.objectRef<ConfigEntry<ForecastRuleDefinition>>('ForecastRule').implement({
  description: 'A forecast rule, as its facts leave it (`forecastrules-main`).',
  fields: (t) => ({
    id: t.string({ resolve: (e) => e.id }),
    selectorName: t.string({
      description: 'The metric name it selects.',
      resolve: (e) => e.definition.selector.name,
    }),
    stepMs: t.int({ resolve: (e) => e.definition.stepMs }),
    horizon: t.int({ description: 'Buckets forecast ahead.', resolve: (e) => e.definition.horizon }),
    every: t.float({ description: 'Ms between forecasts.', resolve: (e) => e.definition.every }),
    history: t.float({
      description: 'Ms of past each forecast reads.',
      resolve: (e) => e.definition.history,
    }),
    period: t.int({ nullable: true, resolve: (e) => e.definition.period ?? null }),
    ...entryFields(t, (e) => e),
  }),
});

const ForecastRuleInput = builder.inputType('ForecastRuleInput', {
  fields: (t) => ({
    id: t.string({ required: true, description: 'Lower-case letters, digits, _ and -.' }),
    selector: t.field({
      type: SeriesSelectorInput,
      required: true,
      description: 'A metric `name` (required) and label `matchers`.',
    }),
    stepMs: t.int({ required: true, description: 'Bucket width in ms.' }),
    horizon: t.int({ required: true, description: 'How many buckets ahead.' }),
    every: t.float({ required: true, description: 'Ms between two forecasts.' }),
    history: t.float({ required: true, description: 'Ms of past each forecast reads.' }),
    period: t.int({ description: 'The season in buckets; absent: found from the values.' }),
  }),
});

function ruleOf(input: typeof ForecastRuleInput.$inferInput): ForecastRuleDefinition {
  const s = input.selector;
  if (s.seriesIds || s.text != null)
    throw new ValidationError('input.selector: a rule selects by name and matchers', [
      { path: 'input.selector', message: 'a rule selects by name and matchers only' },
    ]);
  return parseInput(
    ForecastRuleDefinition,
    defined({
      ...input,
      selector: defined({ name: s.name, matchers: s.matchers ?? undefined }),
    }),
    'input',
  );
}

const rules = (ctx: GraphQLContext) => ctx.forecaster;
const by = (ctx: GraphQLContext) => ({ by: ctx.caller.id });

const ForecastPointType = builder
  .objectRef<{
    ts: number;
    mean: number;
    lower80: number;
    upper80: number;
    lower95: number;
    upper95: number;
  }>('ForecastPoint')
  .implement({
    description: 'One forecast bucket `[ts, ts + stepMs)`: its expected average and 80 % / 95 % intervals.',
    fields: (t) => ({
      ts: t.field({ type: 'DateTime', resolve: (p) => p.ts }),
      mean: t.exposeFloat('mean'),
      lower80: t.exposeFloat('lower80'),
      upper80: t.exposeFloat('upper80'),
      lower95: t.exposeFloat('lower95'),
      upper95: t.exposeFloat('upper95'),
    }),
  });

const SeriesForecastType = builder
  .objectRef<SeriesForecast & { stepMs: number }>('SeriesForecast')
  .implement({
    description: 'A forecast of one series, computed on request (not recorded).',
    fields: (t) => ({
      seriesId: t.string({ resolve: (f) => f.series.seriesId }),
      name: t.string({ resolve: (f) => f.series.name }),
      stepMs: t.exposeInt('stepMs'),
      historyFrom: t.field({ type: 'DateTime', resolve: (f) => f.historyFrom }),
      historyPoints: t.exposeInt('historyPoints'),
      scale: t.float({
        nullable: true,
        description: "MASE's scale on the history.",
        resolve: (f) => f.scale,
      }),
      points: t.field({ type: [ForecastPointType], resolve: (f) => f.points }),
      settings: t.field({ type: JSONObject, resolve: (f) => ({ ...f.settings }) }),
    }),
  });

type MadeShape = ForecastMade & { position: Position };
const ForecastMadeType = builder.objectRef<MadeShape>('ForecastMade').implement({
  description: 'A scheduled forecast of one series (`forecastMade`), as recorded in `forecasts-<ruleId>`.',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    forecastId: t.exposeString('forecastId'),
    seriesId: t.exposeString('seriesId'),
    madeAt: t.field({ type: 'DateTime', resolve: (f) => f.madeAt }),
    stepMs: t.exposeInt('stepMs'),
    scale: t.float({ nullable: true, resolve: (f) => f.scale }),
    points: t.field({ type: [ForecastPointType], resolve: (f) => f.points }),
    settings: t.field({ type: JSONObject, resolve: (f) => ({ ...f.settings }) }),
    position: t.field({ type: 'Position', resolve: (f) => f.position }),
  }),
});

const ScoredPointType = builder.objectRef<ScoredPoint>('ForecastScoredPoint').implement({
  fields: (t) => ({
    ts: t.field({ type: 'DateTime', resolve: (p) => p.ts }),
    mean: t.exposeFloat('mean'),
    actual: t.float({
      nullable: true,
      description: 'Null: no sample arrived for the bucket.',
      resolve: (p) => p.actual,
    }),
    error: t.float({ nullable: true, description: 'actual − mean.', resolve: (p) => p.error }),
    ape: t.float({ nullable: true, description: '|error| / |actual|.', resolve: (p) => p.ape }),
    inside80: t.boolean({ nullable: true, resolve: (p) => p.inside80 }),
    inside95: t.boolean({ nullable: true, resolve: (p) => p.inside95 }),
  }),
});

type ScoredShape = ForecastScored & { position: Position };
const ForecastScoredType = builder.objectRef<ScoredShape>('ForecastScored').implement({
  description: "A forecast's score against what happened (`forecastScored`).",
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    forecastId: t.exposeString('forecastId'),
    seriesId: t.exposeString('seriesId'),
    madeAt: t.field({ type: 'DateTime', resolve: (f) => f.madeAt }),
    scoredAt: t.field({ type: 'DateTime', resolve: (f) => f.scoredAt }),
    stepMs: t.exposeInt('stepMs'),
    scoredPoints: t.exposeInt('scoredPoints'),
    mae: t.float({ nullable: true, resolve: (f) => f.mae }),
    mase: t.float({ nullable: true, resolve: (f) => f.mase }),
    mape: t.float({ nullable: true, resolve: (f) => f.mape }),
    coverage80: t.float({ nullable: true, resolve: (f) => f.coverage80 }),
    coverage95: t.float({ nullable: true, resolve: (f) => f.coverage95 }),
    points: t.field({ type: [ScoredPointType], resolve: (f) => f.points }),
    position: t.field({ type: 'Position', resolve: (f) => f.position }),
  }),
});

const StoredForecastPoint = builder.objectRef<ForecastPointRow>('StoredForecastPoint').implement({
  description: 'One point of a scheduled forecast, from the `forecasts` table.',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    forecastId: t.exposeString('forecastId'),
    seriesId: t.exposeString('seriesId'),
    madeAt: t.field({ type: 'DateTime', resolve: (r) => r.madeAt }),
    stepMs: t.exposeInt('stepMs'),
    ts: t.field({ type: 'DateTime', resolve: (r) => r.ts }),
    mean: t.exposeFloat('mean'),
    lower80: t.exposeFloat('lower80'),
    upper80: t.exposeFloat('upper80'),
    lower95: t.exposeFloat('lower95'),
    upper95: t.exposeFloat('upper95'),
    method: t.exposeString('method'),
  }),
});

const ForecastErrorType = builder.objectRef<ForecastErrorRow>('ForecastError').implement({
  description: 'One scored forecast point, from the `forecast_errors` table.',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    forecastId: t.exposeString('forecastId'),
    seriesId: t.exposeString('seriesId'),
    madeAt: t.field({ type: 'DateTime', resolve: (r) => r.madeAt }),
    scoredAt: t.field({ type: 'DateTime', resolve: (r) => r.scoredAt }),
    ts: t.field({ type: 'DateTime', resolve: (r) => r.ts }),
    mean: t.exposeFloat('mean'),
    actual: t.exposeFloat('actual'),
    error: t.exposeFloat('error'),
    ape: t.float({ nullable: true, resolve: (r) => r.ape }),
    inside80: t.exposeBoolean('inside80'),
    inside95: t.exposeBoolean('inside95'),
  }),
});

async function storedQuery(
  ctx: GraphQLContext,
  args: {
    from: number;
    to: number;
    selector?: typeof SeriesSelectorInput.$inferInput | null;
    seriesId?: string | null;
    ruleId?: string | null;
  },
) {
  const seriesId = seriesIdArg(args.seriesId);
  const ids = args.selector
    ? await answer(() => idsOf(ctx.analytics, selectorOf(args.selector!)))
    : undefined;
  return {
    ...rangeOf(args.from, args.to),
    ...(seriesId || ids ? { seriesIds: [...(ids ?? []), ...(seriesId ? [seriesId] : [])] } : {}),
    ...(args.ruleId ? { ruleId: args.ruleId } : {}),
  };
}

builder.queryFields((t) => ({
  forecastRules: t.connection({
    type: ForecastRule,
    description: 'The forecast rules, in the order they were defined (deleted ones only when asked).',
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection({ args }, visible(await rules(ctx).list(), args.includeDeleted)),
  }),
  forecast: t.field({
    type: [SeriesForecastType],
    description:
      'Forecasts every selected series now (not recorded): its buckets of `stepMs` over the last `history` ms, `horizon` buckets ahead.',
    args: {
      selector: t.arg({ type: SeriesSelectorInput, required: true }),
      stepMs: t.arg.int({ required: true }),
      horizon: t.arg.int({ required: true }),
      history: t.arg.float({ required: true }),
      period: t.arg.int(),
    },
    resolve: (_root, args, ctx) => {
      if (!(args.stepMs >= 1)) throw badInput('stepMs', 'must be a positive whole number of milliseconds');
      if (!(args.horizon >= 1 && args.horizon <= 1000)) throw badInput('horizon', 'must be from 1 to 1000');
      if (!(args.history >= 2 * args.stepMs && args.history / args.stepMs <= 100_000))
        throw badInput('history', 'must span from 2 to 100,000 steps');
      if (args.period != null && !(args.period >= 2)) throw badInput('period', 'must be at least 2');
      return answer(async () =>
        (
          await ctx.forecaster.forecastNow({
            selector: selectorOf(args.selector),
            stepMs: args.stepMs,
            horizon: args.horizon,
            history: args.history,
            period: args.period ?? null,
          })
        ).map((f) => ({ ...f, stepMs: args.stepMs })),
      );
    },
  }),
  forecasts: t.connection({
    type: StoredForecastPoint,
    description:
      'Scheduled forecast points whose bucket starts in [from, to), by series, bucket and when made.',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      selector: t.arg({ type: SeriesSelectorInput }),
      seriesId: t.arg.string(),
      ruleId: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const query = await storedQuery(ctx, args);
      return findingsConnection(args, (page) => findForecastPoints(ctx.analytics, { ...query, ...page }));
    },
  }),
  forecastErrors: t.connection({
    type: ForecastErrorType,
    description: 'Scored forecast points whose bucket starts in [from, to), by series, bucket and when made.',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      selector: t.arg({ type: SeriesSelectorInput }),
      seriesId: t.arg.string(),
      ruleId: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const query = await storedQuery(ctx, args);
      return findingsConnection(args, (page) => findForecastErrors(ctx.analytics, { ...query, ...page }));
    },
  }),
}));

builder.mutationFields((t) => ({
  createForecastRule: t.field({
    type: ForecastRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Adds a rule (recorded as `forecastRuleDefined`); it forecasts from the next tick.',
    args: { input: t.arg({ type: ForecastRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'create', definition: rule }, by(ctx));
    },
  }),
  updateForecastRule: t.field({
    type: ForecastRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Replaces a rule (recorded as `forecastRuleUpdated`, naming the fields that changed).',
    args: { input: t.arg({ type: ForecastRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'update', definition: rule }, by(ctx));
    },
  }),
  pauseForecastRule: t.field({
    type: ForecastRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Stops forecasting until resumed (its forecasts are still scored); `forecastRulePaused`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'pause' }, by(ctx)),
  }),
  resumeForecastRule: t.field({
    type: ForecastRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Forecasts with a paused rule again; `forecastRuleResumed`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'resume' }, by(ctx)),
  }),
  deleteForecastRule: t.field({
    type: ForecastRule,
    errors: { types: MUTATION_ERRORS },
    description:
      'Stops forecasting for good (its forecasts stay and are still scored); `forecastRuleDeleted`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'delete' }, by(ctx)),
  }),
}));

builder.subscriptionFields((t) => ({
  forecastMade: t.field({
    type: ForecastMadeType,
    description: 'Scheduled forecasts as they are recorded; resume with `after`.',
    args: { ruleId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      factFeed(ctx.logHub, {
        after: args.after,
        category: 'forecasts',
        type: 'forecastMade',
        keep: (data) => !args.ruleId || data.ruleId === args.ruleId,
      }),
    resolve: (p) => p,
  }),
  forecastScored: t.field({
    type: ForecastScoredType,
    description: "Forecasts' scores as they are recorded; resume with `after`.",
    args: { ruleId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      factFeed(ctx.logHub, {
        after: args.after,
        category: 'forecasts',
        type: 'forecastScored',
        keep: (data) => !args.ruleId || data.ruleId === args.ruleId,
      }),
    resolve: (p) => p,
  }),
}));
