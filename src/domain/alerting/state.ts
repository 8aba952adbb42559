import { type ConfigEntry, type EntryChange, evolveEntries } from '../configuration/entry.js';
import type { AlertEvent } from './events.js';
import type { AlertRule, Severity, Silence } from './rules.js';

export type AlertStatus = 'pending' | 'firing' | 'resolved';

/** One alert: a rule on one series. */
export interface AlertRecord {
  /** `<rule>|<series id>`. */
  readonly key: string;
  readonly rule: string;
  readonly seriesId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: AlertStatus;
  readonly severity: Severity;
  /** When the condition started holding. */
  readonly since: number;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
  readonly escalated: boolean;
  /** The value that made it pending, fire, or (finding rules) hold again. */
  readonly value: number;
  /** When its condition last held (finding rules resolve `resolveAfterMs` after it). */
  readonly lastTrueAt: number;
}

/** What the manager remembers of a series that rate or absence rules watch: its last sample and when it came. */
export interface SeriesMemory {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The sample's own time (rates). */
  readonly ts: number;
  /** When the manager saw it (absence: silence is counted from here). */
  readonly seenAt: number;
}

/**
 * Everything the alert manager's decisions depend on, and nothing else: the fold of its stream. A
 * manager rebuilt from the log is, field by field, the one that was running.
 */
export interface AlertManagerState {
  readonly id: string;
  readonly alerts: Readonly<Record<string, AlertRecord>>;
  readonly silences: Readonly<Record<string, Silence>>;
  /** Its rules, as their facts leave them: active, paused, or deleted (kept with their last definition). */
  readonly rules: Readonly<Record<string, ConfigEntry<AlertRule>>>;
  /** Series that rate or absence rules watch. */
  readonly series: Readonly<Record<string, SeriesMemory>>;
  /** The newest log position any fact was caused by: evaluation resumes with that source event. */
  readonly sourcePosition: string | null;
  readonly notificationsSent: number;
  readonly notificationsFailed: number;
  /** Notifications raised for a webhook whose delivery is not recorded yet (a crash came between). */
  readonly undelivered: Readonly<Record<string, Extract<AlertEvent, { type: 'notificationRaised' }>>>;
}

export function initialAlertState(id: string): AlertManagerState {
  return {
    id,
    alerts: {},
    silences: {},
    rules: {},
    series: {},
    sourcePosition: null,
    notificationsSent: 0,
    notificationsFailed: 0,
    undelivered: {},
  };
}

const without = <T>(record: Readonly<Record<string, T>>, key: string | undefined) => {
  if (key === undefined || !(key in record)) return record;
  const { [key]: _removed, ...rest } = record;
  return rest;
};

const newer = (state: AlertManagerState, position: string | null | undefined): string | null =>
  position != null && (state.sourcePosition === null || BigInt(position) > BigInt(state.sourcePosition))
    ? position
    : state.sourcePosition;

type Transition = Extract<AlertEvent, { key: string }>;

function applyTransition(state: AlertManagerState, event: Transition): AlertManagerState {
  const before = state.alerts[event.key];
  // A new alert, or one starting again after it resolved (absence alerts fire without a pending step).
  const fresh =
    !before || event.type === 'alertPending' || (event.type === 'alertFired' && before.status === 'resolved');
  const base: AlertRecord = fresh
    ? {
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
        lastTrueAt: event.at,
      }
    : before;
  const next: AlertRecord =
    event.type === 'alertPending'
      ? base
      : event.type === 'alertFired'
        ? { ...base, status: 'firing', firedAt: event.at, value: event.value }
        : event.type === 'alertEscalated'
          ? { ...base, escalated: true, severity: event.severity }
          : event.type === 'alertResolved'
            ? { ...base, status: 'resolved', resolvedAt: event.at }
            : { ...base, acknowledgedAt: event.at, acknowledgedBy: event.by };
  return {
    ...state,
    alerts: { ...state.alerts, [event.key]: next },
    sourcePosition: newer(state, event.sourcePosition),
  };
}

type RuleFact = Extract<AlertEvent, { type: `alertRule${string}` }>;

function applyRuleChange(state: AlertManagerState, event: RuleFact): AlertManagerState {
  const change: [string, EntryChange<AlertRule>] =
    event.type === 'alertRuleDefined'
      ? [event.rule.id, { kind: 'defined', definition: event.rule }]
      : event.type === 'alertRuleUpdated'
        ? [event.rule.id, { kind: 'updated', definition: event.rule, changes: event.changes }]
        : [
            event.id,
            {
              kind:
                event.type === 'alertRulePaused'
                  ? 'paused'
                  : event.type === 'alertRuleResumed'
                    ? 'resumed'
                    : 'deleted',
            },
          ];
  const { by, at, origin } = event;
  return {
    ...state,
    rules: evolveEntries(state.rules, change[0], change[1], { by, at, origin }),
    sourcePosition: newer(state, event.sourcePosition),
  };
}

/**
 * The rules in force: the active recorded rules, after any fixed rules the host supplies (embedding,
 * tests) that no fact has changed. In the order they were first defined.
 */
export function rulesInForce(state: AlertManagerState, fixed: readonly AlertRule[] = []): AlertRule[] {
  const out = fixed.filter((r) => !(r.id in state.rules));
  for (const entry of Object.values(state.rules)) if (entry.status === 'active') out.push(entry.definition);
  return out;
}

/** The state after one more fact. Pure: rebuilding from the log folds the stream through it. */
export function evolveAlerts(state: AlertManagerState, event: AlertEvent): AlertManagerState {
  switch (event.type) {
    case 'alertRuleDefined':
    case 'alertRuleUpdated':
    case 'alertRulePaused':
    case 'alertRuleResumed':
    case 'alertRuleDeleted':
      return applyRuleChange(state, event);
    case 'alertPending':
    case 'alertFired':
    case 'alertEscalated':
    case 'alertResolved':
    case 'alertAcknowledged':
      return applyTransition(state, event);
    case 'silenceCreated':
      return { ...state, silences: { ...state.silences, [event.silence.id]: event.silence } };
    case 'silenceRemoved':
      return { ...state, silences: without(state.silences, event.id) };
    case 'seriesWatched':
      // Recorded by earlier versions when an absence rule first saw a series.
      return {
        ...state,
        series: {
          ...state.series,
          [event.seriesId]: {
            name: event.name,
            labels: event.labels,
            value: event.value,
            ts: event.at,
            seenAt: event.at,
          },
        },
      };
    case 'inputsObserved': {
      const series = { ...state.series };
      for (const s of event.series)
        series[s.seriesId] = { name: s.name, labels: s.labels, value: s.value, ts: s.ts, seenAt: event.at };
      const alerts = { ...state.alerts };
      for (const r of event.renewed) {
        const alert = alerts[r.key];
        if (alert) alerts[r.key] = { ...alert, value: r.value, lastTrueAt: event.at };
      }
      return { ...state, series, alerts, sourcePosition: newer(state, event.sourcePosition) };
    }
    case 'notificationRaised':
      return {
        ...state,
        undelivered: event.delivery ? { ...state.undelivered, [event.id]: event } : state.undelivered,
      };
    case 'notificationSent':
      return {
        ...state,
        notificationsSent: state.notificationsSent + 1,
        undelivered: without(state.undelivered, event.id),
      };
    case 'notificationFailed':
      return {
        ...state,
        notificationsFailed: state.notificationsFailed + 1,
        undelivered: without(state.undelivered, event.id),
      };
  }
}
