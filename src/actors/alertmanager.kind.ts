import { ALERT_EVENT_SCHEMA_VERSION, AlertEvent } from '../domain/alerting/events.js';
import { defineActorKind } from './actor-kind.js';
import { ALERTMANAGER_MACHINE_VERSION, alertManagerMachine } from './alertmanager.machine.js';
import { parseWith } from './parse.js';

export function alertManagerKind() {
  return defineActorKind({
    kind: 'alertmanager',
    machine: alertManagerMachine,
    machineVersion: ALERTMANAGER_MACHINE_VERSION,
    schemaVersion: ALERT_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(AlertEvent, input),
    effectFailed: () => null,
  });
}
