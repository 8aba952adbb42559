import { resolveArrayConnection } from '@pothos/plugin-relay';
import { COMPLEX_EVENT_INPUTS, ComplexRule } from '../../domain/analytics/complex-events.js';
import type { ConfigEntry } from '../../domain/configuration/entry.js';
import { builder, LabelInput } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { MUTATION_ERRORS } from '../error-types.js';
import { defined, entryFields, labelsOf, parseInput, visible } from './shared.js';

const ComplexEventRule = builder.objectRef<ConfigEntry<ComplexRule>>('ComplexEventRule').implement({
  description:
    'A complex-event rule as its facts leave it (`complexrules-main`); `definition` is the whole rule.',
  fields: (t) => ({
    id: t.exposeString('id'),
    kind: t.string({ description: 'sequence | count', resolve: (e) => e.definition.kind }),
    ...entryFields(t, (e) => e),
  }),
});

const ComplexRuleKind = builder.enumType('ComplexRuleKind', { values: ['sequence', 'count'] as const });
const AnalyticsFactType = builder.enumType('AnalyticsFactType', {
  values: COMPLEX_EVENT_INPUTS,
  description: 'The analytics facts complex-event rules match.',
});

const EventMatcherInput = builder.inputType('EventMatcherInput', {
  description: 'Which findings: their type, and the series they concern (`*` globs, or `/regex/`).',
  fields: (t) => ({
    type: t.field({ type: AnalyticsFactType, required: true }),
    name: t.string(),
    labels: t.field({ type: [LabelInput] }),
  }),
});

const ComplexEventRuleInput = builder.inputType('ComplexEventRuleInput', {
  description:
    'A complex-event rule, as in COMPLEX_EVENT_RULES_FILE: sequence (steps, withinMs) or count (match, n, windowMs); `by`: labels the events must share.',
  fields: (t) => ({
    id: t.string({ required: true }),
    kind: t.field({ type: ComplexRuleKind, required: true }),
    steps: t.field({ type: [EventMatcherInput] }),
    withinMs: t.int(),
    match: t.field({ type: EventMatcherInput }),
    n: t.int(),
    windowMs: t.int(),
    by: t.stringList(),
  }),
});

type MatcherInput = typeof EventMatcherInput.$inferInput;
const matcherOf = (m: MatcherInput, field: string) =>
  defined({ type: m.type, name: m.name, labels: labelsOf(m.labels, `${field}.labels`) });

function ruleOf(input: typeof ComplexEventRuleInput.$inferInput): ComplexRule {
  return parseInput(
    ComplexRule,
    defined({
      id: input.id,
      kind: input.kind,
      steps: input.steps?.map((s, i) => matcherOf(s, `input.steps.${i}`)),
      withinMs: input.withinMs,
      match: input.match ? matcherOf(input.match, 'input.match') : undefined,
      n: input.n,
      windowMs: input.windowMs,
      by: input.by,
    }),
    'input',
  );
}

const rules = (ctx: GraphQLContext) => ctx.configuration.complexRules;
const by = (ctx: GraphQLContext) => ({ by: ctx.caller.id });

builder.queryFields((t) => ({
  complexEventRules: t.connection({
    type: ComplexEventRule,
    description: 'The complex-event rules, in the order they were defined (deleted ones only when asked).',
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection({ args }, visible(await rules(ctx).list(), args.includeDeleted)),
  }),
}));

builder.mutationFields((t) => ({
  createComplexEventRule: t.field({
    type: ComplexEventRule,
    errors: { types: MUTATION_ERRORS },
    description:
      'Creates a rule (recorded as `complexRuleDefined`); the rules in force then judge the findings that come after.',
    args: { input: t.arg({ type: ComplexEventRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'create', definition: rule }, by(ctx));
    },
  }),
  updateComplexEventRule: t.field({
    type: ComplexEventRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Replaces a rule (recorded as `complexRuleUpdated`, naming the fields that changed).',
    args: { input: t.arg({ type: ComplexEventRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'update', definition: rule }, by(ctx));
    },
  }),
  pauseComplexEventRule: t.field({
    type: ComplexEventRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Takes a rule out of force until resumed; recorded as `complexRulePaused`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'pause' }, by(ctx)),
  }),
  resumeComplexEventRule: t.field({
    type: ComplexEventRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Puts a paused rule back in force; recorded as `complexRuleResumed`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'resume' }, by(ctx)),
  }),
  deleteComplexEventRule: t.field({
    type: ComplexEventRule,
    errors: { types: MUTATION_ERRORS },
    description: 'Deletes a rule (its history stays); recorded as `complexRuleDeleted`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'delete' }, by(ctx)),
  }),
}));
