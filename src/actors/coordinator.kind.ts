import { COORDINATOR_EVENT_SCHEMA_VERSION, CoordinatorEvent } from '../domain/coordinator/events.js';
import { defineActorKind } from './actor-kind.js';
import { COORDINATOR_MACHINE_VERSION, coordinatorMachine } from './coordinator.machine.js';
import { parseWith } from './parse.js';

export function coordinatorKind() {
  return defineActorKind({
    kind: 'coordinator',
    machine: coordinatorMachine,
    machineVersion: COORDINATOR_MACHINE_VERSION,
    schemaVersion: COORDINATOR_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(CoordinatorEvent, input),
    effectFailed: () => null,
  });
}
