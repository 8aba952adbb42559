import { assign, setup } from 'xstate';
import {
  type CoordinatorEvent,
  type CoordinatorState,
  evolveCoordinator,
  initialCoordinator,
} from '../domain/coordinator/events.js';

export const COORDINATOR_MACHINE_VERSION = 1;

/**
 * The learning coordinator's actor (`coordinator-<id>`): one running state whose context is the fold
 * of its facts (`evolveCoordinator`). The runtime (src/coordinator) decides; the machine records.
 */
export const coordinatorMachine = setup({
  types: {
    context: {} as CoordinatorState,
    events: {} as CoordinatorEvent,
    input: {} as { id: string },
  },
  actions: { record: assign(({ context, event }) => evolveCoordinator(context, event)) },
}).createMachine({
  id: 'coordinator',
  context: ({ input }) => initialCoordinator(input.id),
  initial: 'running',
  states: {
    running: {
      on: {
        modelWatched: { actions: 'record' },
        modelUnwatched: { actions: 'record' },
        degradationDetected: { actions: 'record' },
        driftDetected: { actions: 'record' },
        retrainingTriggered: { actions: 'record' },
        triggerMerged: { actions: 'record' },
        triggerDeferred: { actions: 'record' },
        promotionDecided: { actions: 'record' },
      },
    },
  },
});
