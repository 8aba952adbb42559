import { MODEL_EVENT_SCHEMA_VERSION, ModelEvent } from '../domain/model/events.js';
import { defineActorKind } from './actor-kind.js';
import { MODEL_MACHINE_VERSION, modelMachine } from './model.machine.js';
import { parseWith } from './parse.js';

export function modelKind(machine: typeof modelMachine = modelMachine) {
  return defineActorKind({
    kind: 'model',
    machine,
    machineVersion: MODEL_MACHINE_VERSION,
    schemaVersion: MODEL_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(ModelEvent, input),
    effectFailed: (src, error): ModelEvent | null =>
      src === 'train'
        ? {
            type: 'trainingFailed',
            reason: `training crashed: ${error instanceof Error ? error.message : String(error)}`.slice(
              0,
              2000,
            ),
          }
        : null,
  });
}
