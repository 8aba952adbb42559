import { assign, fromPromise, setup } from 'xstate';
import type { Dataset, ModelEvent, ModelEventOf } from '../domain/model/events.js';
import { fitLinearRegression } from '../domain/model/linear-regression.js';
import { hasVersion, initialModelContext, type ModelContext, nextVersion } from '../domain/model/state.js';

/** Bump when the machine's behaviour changes; it is recorded with every event the machine accepts. */
export const MODEL_MACHINE_VERSION = 1;

export interface TrainInput {
  readonly modelId: string;
  readonly algorithm: NonNullable<ModelContext['spec']>['algorithm'];
  readonly dataset: Dataset;
  readonly version: number;
}

export type TrainOutput = ModelEventOf<'trainingSucceeded'> | ModelEventOf<'trainingFailed'>;

/**
 * The model lifecycle: unregistered → registered → training → trained → deployed → retired, with
 * failed. Training is an invoked actor (`train`); the host appends its result as a
 * `trainingSucceeded` or `trainingFailed` event, which is what moves the machine on.
 */
export const modelMachine = setup({
  types: {
    context: {} as ModelContext,
    events: {} as ModelEvent,
    input: {} as { id: string },
  },
  actors: {
    train: fromPromise<TrainOutput, TrainInput>(async ({ input }) =>
      fitLinearRegression(input.dataset, input.version),
    ),
  },
  guards: {
    knownVersion: ({ context, event }) =>
      event.type === 'modelDeployed' && hasVersion(context, event.version),
    expectedVersion: ({ context, event }) =>
      event.type === 'trainingSucceeded' && event.version === nextVersion(context),
  },
  actions: {
    register: assign(({ event }) => {
      const e = event as ModelEventOf<'modelRegistered'>;
      return { spec: { name: e.name, algorithm: e.algorithm, features: e.features, target: e.target } };
    }),
    recordVersion: assign(({ context, event }) => {
      const e = event as ModelEventOf<'trainingSucceeded'>;
      return {
        versions: [...context.versions, { version: e.version, metrics: e.metrics, artifact: e.artifact }],
        lastFailure: null,
      };
    }),
    recordFailure: assign(({ event }) => ({ lastFailure: (event as ModelEventOf<'trainingFailed'>).reason })),
    deploy: assign(({ event }) => ({ deployedVersion: (event as ModelEventOf<'modelDeployed'>).version })),
    undeploy: assign({ deployedVersion: null }),
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
      on: { trainingRequested: 'training', modelRetired: 'retired' },
    },
    training: {
      invoke: {
        id: 'train',
        src: 'train',
        input: ({ context, event }): TrainInput => ({
          modelId: context.modelId,
          algorithm: context.spec!.algorithm,
          dataset: (event as ModelEventOf<'trainingRequested'>).dataset,
          version: nextVersion(context),
        }),
      },
      on: {
        trainingSucceeded: { guard: 'expectedVersion', target: 'trained', actions: 'recordVersion' },
        trainingFailed: { target: 'failed', actions: 'recordFailure' },
        modelRetired: 'retired',
      },
    },
    trained: {
      on: {
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        trainingRequested: 'training',
        modelRetired: 'retired',
      },
    },
    deployed: {
      on: {
        // Promote a newer version or roll back to an older one.
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        trainingRequested: 'training',
        modelRetired: 'retired',
      },
    },
    failed: {
      on: {
        trainingRequested: 'training',
        modelDeployed: { guard: 'knownVersion', target: 'deployed', actions: 'deploy' },
        modelRetired: 'retired',
      },
    },
    retired: {
      type: 'final',
      entry: 'undeploy',
    },
  },
});
