import { assign, setup } from 'xstate';
import type { AlertEvent } from '../domain/alerting/events.js';
import type { Silence } from '../domain/alerting/rules.js';

export const ALERTMANAGER_MACHINE_VERSION = 1;

type Fact = Extract<AlertEvent, { key: string }>;

export interface AlertRecord {
  readonly key: string;
  readonly rule: string;
  readonly seriesId: string;
  readonly labels: Record<string, string>;
  readonly status: 'pending' | 'firing' | 'resolved';
  readonly severity: Fact['severity'];
  readonly since: number;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  readonly escalated: boolean;
  readonly value: number;
}

export interface AlertManagerContext {
  readonly id: string;
  readonly alerts: Readonly<Record<string, AlertRecord>>;
  readonly silences: Readonly<Record<string, Silence>>;
  /** The newest log position any alert fact was caused by: where evaluation resumes. */
  readonly sourcePosition: string | null;
  readonly notificationsSent: number;
  readonly notificationsFailed: number;
  /** Series absence rules watch (id → name, labels and a last value). */
  readonly watched: Readonly<Record<string, { name: string; labels: Record<string, string>; value: number }>>;
  /** Notifications raised for a webhook whose delivery is not recorded yet (a crash came between). */
  readonly undelivered: Readonly<Record<string, Extract<AlertEvent, { type: 'notificationRaised' }>>>;
}

const without = <T>(record: Readonly<Record<string, T>>, key: string | undefined) => {
  if (key === undefined || !(key in record)) return record;
  const { [key]: _removed, ...rest } = record;
  return rest;
};

function apply(context: AlertManagerContext, event: AlertEvent): Partial<AlertManagerContext> {
  if (!('key' in event)) {
    if (event.type === 'silenceCreated')
      return { silences: { ...context.silences, [event.silence.id]: event.silence } };
    if (event.type === 'silenceRemoved') {
      const { [event.id]: _removed, ...rest } = context.silences;
      return { silences: rest };
    }
    if (event.type === 'seriesWatched')
      return {
        watched: {
          ...context.watched,
          [event.seriesId]: { name: event.name, labels: event.labels, value: event.value },
        },
      };
    if (event.type === 'notificationRaised')
      return event.delivery ? { undelivered: { ...context.undelivered, [event.id]: event } } : {};
    if (event.type === 'notificationSent')
      return {
        notificationsSent: context.notificationsSent + 1,
        undelivered: without(context.undelivered, event.id),
      };
    return {
      notificationsFailed: context.notificationsFailed + 1,
      undelivered: without(context.undelivered, event.id),
    };
  }
  const before = context.alerts[event.key];
  const base: AlertRecord = before ?? {
    key: event.key,
    rule: event.rule,
    seriesId: event.seriesId,
    labels: event.labels,
    status: 'pending',
    severity: event.severity,
    since: event.since,
    firedAt: null,
    resolvedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalated: false,
    value: event.value,
  };
  const fresh = event.type === 'alertPending' || (event.type === 'alertFired' && base.status === 'resolved');
  const start: AlertRecord = fresh
    ? {
        ...base,
        status: 'pending',
        since: event.since,
        firedAt: null,
        resolvedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        escalated: false,
        severity: event.severity,
      }
    : base;
  const next: AlertRecord =
    event.type === 'alertPending'
      ? start
      : event.type === 'alertFired'
        ? { ...start, status: 'firing', firedAt: event.at, value: event.value }
        : event.type === 'alertEscalated'
          ? { ...start, escalated: true, severity: event.severity }
          : event.type === 'alertResolved'
            ? { ...start, status: 'resolved', resolvedAt: event.at }
            : { ...start, acknowledgedAt: event.at, acknowledgedBy: event.by };
  const position = event.sourcePosition;
  const newer =
    position !== null &&
    (context.sourcePosition === null || BigInt(position) > BigInt(context.sourcePosition));
  return { alerts: { ...context.alerts, [event.key]: next }, ...(newer ? { sourcePosition: position } : {}) };
}

/**
 * The alert manager's state: every alert with its status, acknowledgement and escalation, and the
 * silences in force. One running state; each fact folds into the context, so a restart rebuilds the
 * alerts exactly from the log.
 */
export const alertManagerMachine = setup({
  types: { context: {} as AlertManagerContext, events: {} as AlertEvent, input: {} as { id: string } },
  actions: { record: assign(({ context, event }) => apply(context, event)) },
}).createMachine({
  id: 'alertmanager',
  context: ({ input }) => ({
    id: input.id,
    alerts: {},
    silences: {},
    sourcePosition: null,
    notificationsSent: 0,
    notificationsFailed: 0,
    undelivered: {},
    watched: {},
  }),
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
        notificationRaised: { actions: 'record' },
        seriesWatched: { actions: 'record' },
        notificationSent: { actions: 'record' },
        notificationFailed: { actions: 'record' },
      },
    },
  },
});
