import {
  COMPLEX_RULES_EVENT_SCHEMA_VERSION,
  ComplexRulesEvent,
} from '../domain/configuration/complex-rules.js';
import { defineActorKind } from './actor-kind.js';
import { COMPLEXRULES_MACHINE_VERSION, complexRulesMachine } from './complexrules.machine.js';
import { parseWith } from './parse.js';

export function complexRulesKind() {
  return defineActorKind({
    kind: 'complexrules',
    machine: complexRulesMachine,
    machineVersion: COMPLEXRULES_MACHINE_VERSION,
    schemaVersion: COMPLEX_RULES_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(ComplexRulesEvent, input),
    effectFailed: () => null,
  });
}
