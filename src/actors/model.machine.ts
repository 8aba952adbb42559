import { assign, fromPromise, setup } from 'xstate';
import type { ModelEvent, ModelEventOf } from '../domain/model/events.js';
import { hasVersion, initialModelContext, type ModelContext, nextVersion } from '../domain/model/state.js';
import type { TrainInput, TrainOutput } from '../domain/model/training.js';
import { inProcessTrainer } from './model.training.js';

/** Bump when the machine's behaviour changes; it is recorded with every event the machine accepts. */
export const MODEL_MACHINE_VERSION = 3;

export type { TrainInput, TrainOutput } from '../domain/model/training.js';

const defaultTrainer = inProcessTrainer();

/**
 * The model lifecycle: unregistered → registered → training → trained → deployed → retired, with
 * failed. Training is an invoked actor (`train`: build the dataset, fit and judge in the worker pool,
 * store the artifact); the host appends its result as `trainingSucceeded` or `trainingFailed`, which
 * moves the machine on. Promotion (`modelDeployed`) takes any trained version, rollback
 * (`modelRolledBack`) any earlier one; while a version is deployed it keeps serving during a retraining
 * and after a failed one. A learning pipeline adds versions it made itself (`versionRegistered`), next in
 * number, whenever no run of the model's own is in progress.
 */
export const modelMachine = setup({
  types: {
    context: {} as ModelContext,
    events: {} as ModelEvent,
    input: {} as { id: string },
  },
  actors: {
    train: fromPromise<TrainOutput, TrainInput>(({ input, signal }) => defaultTrainer(input, signal)),
  },
  guards: {
    knownVersion: ({ context, event }) =>
      event.type === 'modelDeployed' && hasVersion(context, event.version),
    earlierVersion: ({ context, event }) =>
      event.type === 'modelRolledBack' &&
      hasVersion(context, event.version) &&
      context.deployedVersion !== null &&
      event.from === context.deployedVersion &&
      event.version < context.deployedVersion,
    nextVersion: ({ context, event }) =>
      event.type === 'trainingRequested' && event.version === nextVersion(context),
    nextRegistered: ({ context, event }) =>
      event.type === 'versionRegistered' && event.version === nextVersion(context),
    currentRun: ({ context, event }) =>
      (event.type === 'trainingSucceeded' || event.type === 'trainingFailed') &&
      (event.version === undefined || event.version === context.training?.version),
    isDeployed: ({ context }) => context.deployedVersion !== null,
  },
  actions: {
    register: assign(({ event }) => {
      const e = event as ModelEventOf<'modelRegistered'>;
      return { name: e.name, description: e.description ?? null, spec: e.spec };
    }),
    startRun: assign(({ event }) => {
      const e = event as ModelEventOf<'trainingRequested'>;
      return { requested: e.version, training: { version: e.version, spec: e.spec } };
    }),
    recordVersion: assign(({ context, event }) => {
      const { type: _, ...e } = event as ModelEventOf<'trainingSucceeded'>;
      return {
        versions: [...context.versions, { ...e, spec: context.training!.spec }],
        training: null,
        lastFailure: null,
      };
    }),
    registerVersion: assign(({ context, event }) => {
      const { type: _, source: __, updatedFrom: ___, ...e } = event as ModelEventOf<'versionRegistered'>;
      return { versions: [...context.versions, e], requested: e.version, lastFailure: null };
    }),
    recordFailure: assign(({ context, event }) => ({
      training: null,
      lastFailure: {
        version: context.training?.version ?? null,
        reason: (event as ModelEventOf<'trainingFailed'>).reason,
      },
    })),
    deploy: assign(({ event }) => ({
      deployedVersion: (event as ModelEventOf<'modelDeployed' | 'modelRolledBack'>).version,
    })),
    undeploy: assign({ deployedVersion: null, training: null }),
  },
}).createMachine({
  id: 'model',
  context: ({ input }) => initialModelContext(input.id),
  initial: 'unregistered',
  states: {
    unregistered: {
      on: { modelRegistered: { target: 'registered', actions: 'register' } },
    },
    registered: {
      on: {
        trainingRequested: { guard: 'nextVersion', target: 'training', actions: 'startRun' },
        versionRegistered: { guard: 'nextRegistered', target: 'deployed', actions: 'registerVersion' },
        modelRetired: 'retired',
      },
    },
    training: {
      invoke: {
        id: 'train',
        src: 'train',
        input: ({ context }): TrainInput => ({
          modelId: context.modelId,
          version: context.training!.version,
          spec: context.training!.spec,
        }),
      },
      on: {
        trainingSucceeded: [{ guard: 'currentRun', target: 'deployed', actions: 'recordVersion' }],
        trainingFailed: { guard: 'currentRun', target: 'failed', actions: 'recordFailure' },
        // A deployed version keeps serving during a run, and may be changed without stopping it.
        modelDeployed: { guard: 'knownVersion', actions: 'deploy' },
        modelRolledBack: { guard: 'earlierVersion', actions: 'deploy' },
        modelRetired: 'retired',
      },
    },
    trained: {
      on: {
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        trainingRequested: { guard: 'nextVersion', target: 'training', actions: 'startRun' },
        versionRegistered: { guard: 'nextRegistered', target: 'deployed', actions: 'registerVersion' },
        modelRetired: 'retired',
      },
    },
    deployed: {
      always: { guard: ({ context }) => context.deployedVersion === null, target: 'trained' },
      on: {
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        modelRolledBack: { guard: 'earlierVersion', target: 'deployed', actions: 'deploy' },
        trainingRequested: { guard: 'nextVersion', target: 'training', actions: 'startRun' },
        versionRegistered: { guard: 'nextRegistered', target: 'deployed', actions: 'registerVersion' },
        modelRetired: 'retired',
      },
    },
    failed: {
      on: {
        trainingRequested: { guard: 'nextVersion', target: 'training', actions: 'startRun' },
        versionRegistered: { guard: 'nextRegistered', target: 'deployed', actions: 'registerVersion' },
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        modelRolledBack: { guard: 'earlierVersion', target: 'deployed', actions: 'deploy' },
        modelRetired: 'retired',
      },
    },
    retired: {
      type: 'final',
      entry: 'undeploy',
    },
  },
});
