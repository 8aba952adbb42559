import { resolveArrayConnection } from '@pothos/plugin-relay';
import type {
  ObjectiveOutcome,
  RecommendationCandidate,
  RecommendationMade,
  RecommendationScored,
} from '../domain/recommendations/facts.js';
import type { Recommendation } from '../recommendations/recommender.js';
import type { Position } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import { MUTATION_ERRORS } from './error-types.js';
import { factFeed } from './log-tail.js';
import { SeriesSelectorInput, selectorOf } from './series.js';

/** Recommendations: settings of controllable parameters searched with models, recorded and scored. */

const Direction = builder.enumType('ObjectiveDirection', { values: ['minimize', 'maximize'] as const });
const SearchMethod = builder.enumType('SearchMethod', { values: ['grid', 'random'] as const });
const ConstraintOp = builder.enumType('ConstraintOp', {
  values: { le: { description: '≤' }, ge: { description: '≥' } } as const,
});

const RecommendParameterInput = builder.inputType('RecommendParameterInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    selector: t.field({ type: SeriesSelectorInput, required: true, description: 'Exactly one series.' }),
    values: t.floatList({ description: 'The values to try; or min, max and step.' }),
    min: t.float(),
    max: t.float(),
    step: t.float({ description: 'Grid step (random search without a step draws any value in [min, max]).' }),
  }),
});

const RecommendObjectiveInput = builder.inputType('RecommendObjectiveInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    modelId: t.string({ required: true, description: 'A model whose features are parameters.' }),
    version: t.int({ description: 'Absent: the deployed version.' }),
    selector: t.field({
      type: SeriesSelectorInput,
      required: true,
      description: 'The series the objective is measured on (exactly one).',
    }),
    direction: t.field({ type: Direction, defaultValue: 'minimize' }),
    features: t.stringList({
      description: "Parameter names in the model's feature order; absent: all, in order.",
    }),
  }),
});

const RecommendConstraintInput = builder.inputType('RecommendConstraintInput', {
  fields: (t) => ({
    on: t.string({ required: true, description: 'A parameter or objective name.' }),
    op: t.field({ type: ConstraintOp, required: true }),
    value: t.float({ required: true }),
  }),
});

const RecommendInput = builder.inputType('RecommendInput', {
  fields: (t) => ({
    parameters: t.field({ type: [RecommendParameterInput], required: true }),
    objectives: t.field({
      type: [RecommendObjectiveInput],
      required: true,
      description: 'One (an optimum) or two (a Pareto front).',
    }),
    constraints: t.field({ type: [RecommendConstraintInput] }),
    method: t.field({ type: SearchMethod, defaultValue: 'grid' }),
    count: t.int({ description: 'Random search: settings drawn (default 100).' }),
    seed: t.int({ description: 'Random search: the seed (default 1).' }),
    tolerance: t.float({ description: 'A parameter within this of a recommended value counts as set.' }),
    windowMs: t.int({ description: 'Scoring windows before and after applying (default 300000).' }),
  }),
});

const CandidateType = builder.objectRef<RecommendationCandidate>('RecommendationCandidate').implement({
  fields: (t) => ({
    settings: t.floatList({ description: 'In parameter order.', resolve: (c) => c.settings }),
    predicted: t.floatList({ description: 'In objective order.', resolve: (c) => c.predicted }),
  }),
});

type ObjectiveShape = RecommendationMade['objectives'][number];
const ObjectiveType = builder.objectRef<ObjectiveShape>('RecommendationObjective').implement({
  description: 'An objective and its evidence: the model version that predicted it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    seriesId: t.exposeString('seriesId'),
    modelId: t.exposeString('modelId'),
    version: t.exposeInt('version'),
    direction: t.field({ type: Direction, resolve: (o) => o.direction }),
    features: t.exposeStringList('features'),
  }),
});

const ParameterType = builder
  .objectRef<RecommendationMade['parameters'][number]>('RecommendationParameter')
  .implement({
    fields: (t) => ({ name: t.exposeString('name'), seriesId: t.exposeString('seriesId') }),
  });

const OutcomeType = builder.objectRef<ObjectiveOutcome>('RecommendationOutcome').implement({
  description: "An objective's mean over the window before and after the setting was applied.",
  fields: (t) => ({
    name: t.exposeString('name'),
    seriesId: t.exposeString('seriesId'),
    before: t.float({ nullable: true, resolve: (o) => o.before }),
    after: t.float({ nullable: true, resolve: (o) => o.after }),
    improved: t.boolean({ nullable: true, resolve: (o) => o.improved }),
  }),
});

type ScoredShape = RecommendationScored & { position?: Position };
const ScoredType = builder.objectRef<ScoredShape>('RecommendationScored').implement({
  description: 'A recommendation scored (`recommendationScored`).',
  fields: (t) => ({
    recommendationId: t.exposeString('recommendationId'),
    scoredAt: t.field({ type: 'DateTime', resolve: (s) => s.scoredAt }),
    appliedAt: t.field({ type: 'DateTime', resolve: (s) => s.appliedAt }),
    settings: t.floatList({ resolve: (s) => s.settings }),
    outcomes: t.field({ type: [OutcomeType], resolve: (s) => s.outcomes }),
    improved: t.boolean({ nullable: true, resolve: (s) => s.improved }),
    position: t.field({ type: 'Position', nullable: true, resolve: (s) => s.position ?? null }),
  }),
});

type MadeShape = RecommendationMade & {
  position?: Position;
  scored?: RecommendationScored | null;
  by?: string | null;
};
const RecommendationType = builder.objectRef<MadeShape>('Recommendation').implement({
  description: 'A recommendation (`recommendationMade` in `recommendations-<id>`) and its score, once made.',
  fields: (t) => ({
    id: t.string({ resolve: (r) => r.recommendationId }),
    madeAt: t.field({ type: 'DateTime', resolve: (r) => r.madeAt }),
    madeBy: t.string({ nullable: true, resolve: (r) => r.by ?? null }),
    parameters: t.field({ type: [ParameterType], resolve: (r) => r.parameters }),
    objectives: t.field({ type: [ObjectiveType], resolve: (r) => r.objectives }),
    method: t.field({ type: SearchMethod, resolve: (r) => r.method }),
    seed: t.int({ nullable: true, resolve: (r) => r.seed }),
    candidatesEvaluated: t.exposeInt('candidatesEvaluated'),
    feasible: t.exposeInt('feasible'),
    best: t.field({ type: CandidateType, nullable: true, resolve: (r) => r.best }),
    front: t.field({ type: [CandidateType], resolve: (r) => r.front }),
    tolerance: t.exposeFloat('tolerance'),
    windowMs: t.exposeInt('windowMs'),
    outcome: t.field({ type: ScoredType, nullable: true, resolve: (r) => r.scored ?? null }),
    position: t.field({ type: 'Position', nullable: true, resolve: (r) => r.position ?? null }),
  }),
});

const shapeOf = (r: Recommendation): MadeShape => ({ ...r.made, scored: r.scored, by: r.by });

builder.queryFields((t) => ({
  recommendations: t.connection({
    type: RecommendationType,
    description: 'Every recommendation, oldest first, with its outcome once scored.',
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection(
        { args, defaultSize: 100, maxSize: 1000 },
        (await ctx.recommender.list()).map(shapeOf),
      ),
  }),
  recommendation: t.field({
    type: RecommendationType,
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const r = await ctx.recommender.get(args.id);
      return r ? shapeOf(r) : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  recommend: t.field({
    type: RecommendationType,
    errors: { types: MUTATION_ERRORS },
    description:
      'Searches parameter settings with the objective models and records `recommendationMade`; the same `id` again answers the recorded one.',
    args: {
      id: t.arg.string({ required: true, description: "The client's id for the recommendation." }),
      input: t.arg({ type: RecommendInput, required: true }),
    },
    resolve: async (_root, { id, input }, ctx) =>
      shapeOf(
        await ctx.recommender.recommend(
          {
            id,
            parameters: input.parameters.map((p) => ({
              name: p.name,
              selector: selectorOf(p.selector),
              values: p.values ?? null,
              min: p.min ?? null,
              max: p.max ?? null,
              step: p.step ?? null,
            })),
            objectives: input.objectives.map((o) => ({
              name: o.name,
              modelId: o.modelId,
              version: o.version ?? null,
              selector: selectorOf(o.selector),
              direction: o.direction ?? 'minimize',
              features: o.features ?? null,
            })),
            constraints: (input.constraints ?? []).map((c) => ({ on: c.on, op: c.op, value: c.value })),
            method: input.method ?? 'grid',
            count: input.count ?? null,
            seed: input.seed ?? null,
            tolerance: input.tolerance ?? null,
            windowMs: input.windowMs ?? null,
          },
          { principal: ctx.caller.id },
        ),
      ),
  }),
}));

builder.subscriptionFields((t) => ({
  recommendationMade: t.field({
    type: RecommendationType,
    description: 'Recommendations as they are recorded; resume with `after`.',
    args: { after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      factFeed(ctx.logHub, { after: args.after, category: 'recommendations', type: 'recommendationMade' }),
    resolve: (p) => p,
  }),
  recommendationScored: t.field({
    type: ScoredType,
    description: "Recommendations' scores as they are recorded; resume with `after`.",
    args: { after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      factFeed(ctx.logHub, { after: args.after, category: 'recommendations', type: 'recommendationScored' }),
    resolve: (p) => p,
  }),
}));
