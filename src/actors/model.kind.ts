import { fromPromise } from 'xstate';
import { MODEL_EVENT_SCHEMA_VERSION, ModelEvent } from '../domain/model/events.js';
import { defineActorKind } from './actor-kind.js';
import { MODEL_MACHINE_VERSION, modelMachine, type TrainInput, type TrainOutput } from './model.machine.js';
import type { Trainer } from './model.training.js';
import { parseWith } from './parse.js';

/** The model machine with a trainer of its own (the service's: the worker pool and ClickHouse). */
export function modelMachineWith(trainer: Trainer): typeof modelMachine {
  return modelMachine.provide({
    actors: { train: fromPromise<TrainOutput, TrainInput>(({ input, signal }) => trainer(input, signal)) },
  });
}

/**
 * The model kind. Without a trainer the machine's default trains in process on inline data: enough
 * to fold streams (the audit API) and for tests; the service passes the pool trainer.
 */
export function modelKind(machine: typeof modelMachine | Trainer = modelMachine) {
  return defineActorKind({
    kind: 'model',
    machine: typeof machine === 'function' ? modelMachineWith(machine) : machine,
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
