import { assign, setup } from 'xstate';
import {
  evolveForecastRules,
  FORECAST_RULES_EVENT_SCHEMA_VERSION,
  ForecastRulesEvent,
  type ForecastRulesState,
  initialForecastRules,
} from '../domain/forecasting/rules.js';
import { defineActorKind } from './actor-kind.js';
import { parseWith } from './parse.js';

export const FORECASTRULES_MACHINE_VERSION = 1;

/**
 * The forecast rules' actor (`forecastrules-<id>`): one running state whose context is the fold of its
 * rule changes through the domain's pure `evolveForecastRules`. Which change is allowed is decided
 * before it is sent (`decideEntry`); the machine records.
 */
export const forecastRulesMachine = setup({
  types: {
    context: {} as ForecastRulesState,
    events: {} as ForecastRulesEvent,
    input: {} as { id: string },
  },
  actions: { record: assign(({ context, event }) => evolveForecastRules(context, event)) },
}).createMachine({
  id: 'forecastrules',
  context: ({ input }) => initialForecastRules(input.id),
  initial: 'running',
  states: {
    running: {
      on: {
        forecastRuleDefined: { actions: 'record' },
        forecastRuleUpdated: { actions: 'record' },
        forecastRulePaused: { actions: 'record' },
        forecastRuleResumed: { actions: 'record' },
        forecastRuleDeleted: { actions: 'record' },
      },
    },
  },
});

export function forecastRulesKind() {
  return defineActorKind({
    kind: 'forecastrules',
    machine: forecastRulesMachine,
    machineVersion: FORECASTRULES_MACHINE_VERSION,
    schemaVersion: FORECAST_RULES_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(ForecastRulesEvent, input),
    effectFailed: () => null,
  });
}
