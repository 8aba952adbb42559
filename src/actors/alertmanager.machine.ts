import { assign, setup } from 'xstate';
import type { AlertEvent } from '../domain/alerting/events.js';
import { type AlertManagerState, evolveAlerts, initialAlertState } from '../domain/alerting/state.js';

export const ALERTMANAGER_MACHINE_VERSION = 3;

/** Kept for readers of the context: the alert manager's state is the domain's `AlertManagerState`. */
export type AlertManagerContext = AlertManagerState;
export type { AlertRecord } from '../domain/alerting/state.js';

/**
 * The alert manager's actor: one running state whose context is the fold of its facts through the
 * domain's pure `evolveAlerts` (the same function the live manager applies), so a restart rebuilds
 * exactly the state it had.
 */
export const alertManagerMachine = setup({
  types: { context: {} as AlertManagerState, events: {} as AlertEvent, input: {} as { id: string } },
  actions: { record: assign(({ context, event }) => evolveAlerts(context, event)) },
}).createMachine({
  id: 'alertmanager',
  context: ({ input }) => initialAlertState(input.id),
  initial: 'running',
  states: {
    running: {
      on: {
        alertPending: { actions: 'record' },
        alertFired: { actions: 'record' },
        alertEscalated: { actions: 'record' },
        alertResolved: { actions: 'record' },
        alertAcknowledged: { actions: 'record' },
        silenceCreated: { actions: 'record' },
        silenceRemoved: { actions: 'record' },
        alertRuleDefined: { actions: 'record' },
        alertRuleUpdated: { actions: 'record' },
        alertRulePaused: { actions: 'record' },
        alertRuleResumed: { actions: 'record' },
        alertRuleDeleted: { actions: 'record' },
        inputsObserved: { actions: 'record' },
        seriesWatched: { actions: 'record' },
        notificationRaised: { actions: 'record' },
        notificationSent: { actions: 'record' },
        notificationFailed: { actions: 'record' },
      },
    },
  },
});
