import { z } from 'zod';
import { ComplexRule } from '../analytics/complex-events.js';
import { ChangeStamp, type ConfigEntry, type EntryChange, evolveEntries, FieldChange } from './entry.js';

/** The complex-event rules' facts, in `complexrules-<id>`: every change to a rule. */
export const COMPLEX_RULES_EVENT_SCHEMA_VERSION = 1;
const id = z.string().min(1);

export const ComplexRulesEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('complexRuleDefined'), rule: ComplexRule, ...ChangeStamp.shape }),
  z.object({
    type: z.literal('complexRuleUpdated'),
    rule: ComplexRule,
    changes: z.array(FieldChange),
    ...ChangeStamp.shape,
  }),
  z.object({ type: z.literal('complexRulePaused'), id, ...ChangeStamp.shape }),
  z.object({ type: z.literal('complexRuleResumed'), id, ...ChangeStamp.shape }),
  z.object({ type: z.literal('complexRuleDeleted'), id, ...ChangeStamp.shape }),
]);
export type ComplexRulesEvent = z.infer<typeof ComplexRulesEvent>;

/** The complex-event rules as their facts leave them (deleted ones kept, with their last definition). */
export interface ComplexRulesState {
  readonly id: string;
  readonly rules: Readonly<Record<string, ConfigEntry<ComplexRule>>>;
}

export const initialComplexRules = (id: string): ComplexRulesState => ({ id, rules: {} });

/** The fact that records a change to the rule `ruleId`. */
export function complexRuleFact(
  ruleId: string,
  change: EntryChange<ComplexRule>,
  stamp: ChangeStamp,
): ComplexRulesEvent {
  switch (change.kind) {
    case 'defined':
      return { type: 'complexRuleDefined', rule: change.definition, ...stamp };
    case 'updated':
      return { type: 'complexRuleUpdated', rule: change.definition, changes: [...change.changes], ...stamp };
    case 'paused':
      return { type: 'complexRulePaused', id: ruleId, ...stamp };
    case 'resumed':
      return { type: 'complexRuleResumed', id: ruleId, ...stamp };
    case 'deleted':
      return { type: 'complexRuleDeleted', id: ruleId, ...stamp };
  }
}

/** The state after one more fact. Pure. */
export function evolveComplexRules(state: ComplexRulesState, event: ComplexRulesEvent): ComplexRulesState {
  const { by, at, origin } = event;
  const stamp = { by, at, origin };
  const apply = (ruleId: string, change: EntryChange<ComplexRule>) => ({
    ...state,
    rules: evolveEntries(state.rules, ruleId, change, stamp),
  });
  switch (event.type) {
    case 'complexRuleDefined':
      return apply(event.rule.id, { kind: 'defined', definition: event.rule });
    case 'complexRuleUpdated':
      return apply(event.rule.id, { kind: 'updated', definition: event.rule, changes: event.changes });
    case 'complexRulePaused':
      return apply(event.id, { kind: 'paused' });
    case 'complexRuleResumed':
      return apply(event.id, { kind: 'resumed' });
    case 'complexRuleDeleted':
      return apply(event.id, { kind: 'deleted' });
  }
}
