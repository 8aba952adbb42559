import { resolveArrayConnection } from '@pothos/plugin-relay';
import { AlertRule } from '../../domain/alerting/rules.js';
import type { ConfigEntry } from '../../domain/configuration/entry.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { MUTATION_ERRORS } from '../error-types.js';
import { defined, entryFields, matcherOf, parseInput, SeriesMatcherInput, visible } from './shared.js';

const AlertRuleRef = builder.objectRef<ConfigEntry<AlertRule>>('AlertRule').implement({
  description:
    "An alert rule as the alert manager's facts leave it (`alertmanager-main`); `definition` is the whole rule.",
  fields: (t) => ({
    id: t.exposeString('id'),
    ...entryFields(t, (e) => e),
    severity: t.string({ description: 'info | warning | critical', resolve: (e) => e.definition.severity }),
    condition: t.string({
      description: 'threshold | anomalyScore | absence | rateOfChange | pattern | complexEvent',
      resolve: (e) => e.definition.condition.type,
    }),
    summary: t.string({ resolve: (e) => e.definition.summary }),
  }),
});

const AlertConditionType = builder.enumType('AlertConditionType', {
  values: ['threshold', 'anomalyScore', 'absence', 'rateOfChange', 'pattern', 'complexEvent'] as const,
});

const AlertConditionInput = builder.inputType('AlertConditionInput', {
  description:
    'The condition: `type` and the fields it takes: threshold (op: > >= < <=, value), anomalyScore (min), absence (missedIntervals: only series with a regular cadence, after that many of their intervals), rateOfChange (perSecond), pattern (pattern), complexEvent (rule).',
  fields: (t) => ({
    type: t.field({ type: AlertConditionType, required: true }),
    op: t.string(),
    value: t.float(),
    min: t.float(),
    perSecond: t.float(),
    missedIntervals: t.int(),
    pattern: t.string(),
    rule: t.string(),
  }),
});

const EscalationInput = builder.inputType('AlertEscalationInput', {
  fields: (t) => ({
    afterMs: t.int({ required: true, description: 'Not acknowledged this long after firing…' }),
    to: t.string({
      required: true,
      description: '…notify again at this severity (info | warning | critical).',
    }),
  }),
});

const AlertRuleInput = builder.inputType('AlertRuleInput', {
  description: 'An alert rule, as in ALERT_RULES_FILE (docs/alerting.md); absent fields take their defaults.',
  fields: (t) => ({
    id: t.string({ required: true }),
    match: t.field({ type: SeriesMatcherInput, required: true }),
    condition: t.field({ type: AlertConditionInput, required: true }),
    severity: t.string({ required: true, description: 'info | warning | critical' }),
    forMs: t.int(),
    groupBy: t.stringList(),
    escalation: t.field({ type: EscalationInput }),
    summary: t.string(),
    resolveAfterMs: t.int(),
  }),
});

type RuleInput = typeof AlertRuleInput.$inferInput;

function ruleOf(input: RuleInput): AlertRule {
  return parseInput(
    AlertRule,
    defined({
      id: input.id,
      match: matcherOf(input.match, 'input.match'),
      condition: defined({ ...input.condition }),
      severity: input.severity,
      forMs: input.forMs,
      groupBy: input.groupBy,
      escalation: input.escalation ? { ...input.escalation } : undefined,
      summary: input.summary,
      resolveAfterMs: input.resolveAfterMs,
    }),
    'input',
  );
}

const rules = (ctx: GraphQLContext) => ctx.configuration.alertRules;
const by = (ctx: GraphQLContext) => ({ by: ctx.caller.id });

builder.queryFields((t) => ({
  alertRules: t.connection({
    type: AlertRuleRef,
    description: 'The alert rules, in the order they were defined (deleted ones only when asked).',
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection({ args }, visible(await rules(ctx).list(), args.includeDeleted)),
  }),
}));

builder.mutationFields((t) => ({
  createAlertRule: t.field({
    type: AlertRuleRef,
    errors: { types: MUTATION_ERRORS },
    description:
      'Creates a rule (recorded as `alertRuleDefined`): it judges what the alert manager evaluates from then on.',
    args: { input: t.arg({ type: AlertRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'create', definition: rule }, by(ctx));
    },
  }),
  updateAlertRule: t.field({
    type: AlertRuleRef,
    errors: { types: MUTATION_ERRORS },
    description:
      'Replaces a rule (recorded as `alertRuleUpdated`, naming the fields that changed); alerts of series its match no longer takes resolve.',
    args: { input: t.arg({ type: AlertRuleInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const rule = ruleOf(input);
      return rules(ctx).change(rule.id, { type: 'update', definition: rule }, by(ctx));
    },
  }),
  pauseAlertRule: t.field({
    type: AlertRuleRef,
    errors: { types: MUTATION_ERRORS },
    description:
      'Stops evaluating a rule until resumed (its open alerts resolve); recorded as `alertRulePaused`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'pause' }, by(ctx)),
  }),
  resumeAlertRule: t.field({
    type: AlertRuleRef,
    errors: { types: MUTATION_ERRORS },
    description: 'Evaluates a paused rule again; recorded as `alertRuleResumed`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'resume' }, by(ctx)),
  }),
  deleteAlertRule: t.field({
    type: AlertRuleRef,
    errors: { types: MUTATION_ERRORS },
    description:
      'Deletes a rule (its open alerts resolve; its history stays); recorded as `alertRuleDeleted`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => rules(ctx).change(args.id, { type: 'delete' }, by(ctx)),
  }),
}));
