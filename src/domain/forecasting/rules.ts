import { z } from 'zod';
import {
  ChangeStamp,
  type ConfigEntry,
  type EntryChange,
  evolveEntries,
  FieldChange,
} from '../configuration/entry.js';

/** A label condition of a forecast rule's selector, as the series API's `LabelMatcher`. */
export const ForecastMatcher = z
  .object({
    label: z.string().min(1).max(200),
    op: z.enum(['eq', 'neq', 'regex', 'notRegex']),
    value: z.string().max(1000),
  })
  .strict();

/** Which series a rule forecasts: a metric name and label matchers (as the series API's `SeriesSelector`). */
export const ForecastSelector = z
  .object({
    name: z.string().min(1).max(200),
    matchers: z.array(ForecastMatcher).max(20).optional(),
  })
  .strict();
export type ForecastSelector = z.infer<typeof ForecastSelector>;

/** A forecast rule: every `every` ms, forecast `horizon` buckets of `stepMs` of each matching series. */
export const ForecastRuleDefinition = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]{0,99}$/,
        'must be lower-case letters, digits, _ and - (starting with a letter)',
      ),
    selector: ForecastSelector,
    /** Bucket width in ms: the series is averaged per bucket and forecast bucket by bucket. */
    stepMs: z.number().int().min(1).max(86_400_000),
    /** How many buckets ahead. */
    horizon: z.number().int().min(1).max(1000),
    /** Ms between two forecasts of the rule. */
    every: z
      .number()
      .int()
      .min(100)
      .max(30 * 86_400_000),
    /** How much past (ms) each forecast reads. */
    history: z
      .number()
      .int()
      .min(1)
      .max(366 * 86_400_000),
    /** The season in buckets; absent: found from the values. */
    period: z.number().int().min(2).max(10_000).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.history / d.stepMs > 100_000)
      ctx.addIssue({ code: 'custom', path: ['history'], message: 'must span at most 100,000 steps' });
    if (d.history < 2 * d.stepMs)
      ctx.addIssue({ code: 'custom', path: ['history'], message: 'must span at least two steps' });
  });
export type ForecastRuleDefinition = z.infer<typeof ForecastRuleDefinition>;

export const FORECAST_RULES_EVENT_SCHEMA_VERSION = 1;
const id = z.string().min(1);

/** The forecast rules' facts, in `forecastrules-<id>`: every change to a rule. */
export const ForecastRulesEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('forecastRuleDefined'), rule: ForecastRuleDefinition, ...ChangeStamp.shape }),
  z.object({
    type: z.literal('forecastRuleUpdated'),
    rule: ForecastRuleDefinition,
    changes: z.array(FieldChange),
    ...ChangeStamp.shape,
  }),
  z.object({ type: z.literal('forecastRulePaused'), id, ...ChangeStamp.shape }),
  z.object({ type: z.literal('forecastRuleResumed'), id, ...ChangeStamp.shape }),
  z.object({ type: z.literal('forecastRuleDeleted'), id, ...ChangeStamp.shape }),
]);
export type ForecastRulesEvent = z.infer<typeof ForecastRulesEvent>;

/** The rules as their facts leave them (deleted ones kept, with their last definition). */
export interface ForecastRulesState {
  readonly id: string;
  readonly rules: Readonly<Record<string, ConfigEntry<ForecastRuleDefinition>>>;
}

export const initialForecastRules = (id: string): ForecastRulesState => ({ id, rules: {} });

/** The fact that records a change to the rule `ruleId`. */
export function forecastRuleFact(
  ruleId: string,
  change: EntryChange<ForecastRuleDefinition>,
  stamp: ChangeStamp,
): ForecastRulesEvent {
  switch (change.kind) {
    case 'defined':
      return { type: 'forecastRuleDefined', rule: change.definition, ...stamp };
    case 'updated':
      return { type: 'forecastRuleUpdated', rule: change.definition, changes: [...change.changes], ...stamp };
    case 'paused':
      return { type: 'forecastRulePaused', id: ruleId, ...stamp };
    case 'resumed':
      return { type: 'forecastRuleResumed', id: ruleId, ...stamp };
    case 'deleted':
      return { type: 'forecastRuleDeleted', id: ruleId, ...stamp };
  }
}

/** The state after one more fact. Pure. */
export function evolveForecastRules(
  state: ForecastRulesState,
  event: ForecastRulesEvent,
): ForecastRulesState {
  const { by, at, origin } = event;
  const stamp = { by, at, origin };
  const apply = (ruleId: string, change: EntryChange<ForecastRuleDefinition>) => ({
    ...state,
    rules: evolveEntries(state.rules, ruleId, change, stamp),
  });
  switch (event.type) {
    case 'forecastRuleDefined':
      return apply(event.rule.id, { kind: 'defined', definition: event.rule });
    case 'forecastRuleUpdated':
      return apply(event.rule.id, { kind: 'updated', definition: event.rule, changes: event.changes });
    case 'forecastRulePaused':
      return apply(event.id, { kind: 'paused' });
    case 'forecastRuleResumed':
      return apply(event.id, { kind: 'resumed' });
    case 'forecastRuleDeleted':
      return apply(event.id, { kind: 'deleted' });
  }
}
