import { assign, setup } from 'xstate';
import {
  type ComplexRulesEvent,
  type ComplexRulesState,
  evolveComplexRules,
  initialComplexRules,
} from '../domain/configuration/complex-rules.js';

export const COMPLEXRULES_MACHINE_VERSION = 1;

/**
 * The complex-event rules' actor (`complexrules-<id>`): one running state whose context is the fold of
 * its rule changes through the domain's pure `evolveComplexRules`. Which change is allowed is decided
 * before it is sent (`decideEntry`); the machine records.
 */
export const complexRulesMachine = setup({
  types: { context: {} as ComplexRulesState, events: {} as ComplexRulesEvent, input: {} as { id: string } },
  actions: { record: assign(({ context, event }) => evolveComplexRules(context, event)) },
}).createMachine({
  id: 'complexrules',
  context: ({ input }) => initialComplexRules(input.id),
  initial: 'running',
  states: {
    running: {
      on: {
        complexRuleDefined: { actions: 'record' },
        complexRuleUpdated: { actions: 'record' },
        complexRulePaused: { actions: 'record' },
        complexRuleResumed: { actions: 'record' },
        complexRuleDeleted: { actions: 'record' },
      },
    },
  },
});
