import type { Labels, SeriesDef } from '../metrics/kinds.js';
import { matches, patternToRegExp } from '../pipeline/match.js';
import { type AlertRule, type Severity, type Silence, severityRank } from './rules.js';

export type AlertStatus = 'pending' | 'firing' | 'resolved';

export interface Alert {
  /** `<rule>|<series id>`: one alert per rule and series. */
  readonly key: string;
  readonly rule: string;
  readonly seriesId: string;
  readonly labels: Labels;
  status: AlertStatus;
  severity: Severity;
  /** When the condition started holding. */
  since: number;
  firedAt: number | null;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  escalated: boolean;
  /** The last value that made the condition true. */
  value: number;
  /** When the condition last held (finding-based alerts resolve after `resolveAfterMs` without one). */
  lastTrueAt?: number;
}

/** A fact the engine decided; the alert-manager actor records each one. */
export type AlertTransition =
  | { readonly type: 'alertPending'; readonly alert: Readonly<Alert>; readonly at: number }
  | { readonly type: 'alertFired'; readonly alert: Readonly<Alert>; readonly at: number }
  | {
      readonly type: 'alertEscalated';
      readonly alert: Readonly<Alert>;
      readonly at: number;
      readonly from: Severity;
    }
  | { readonly type: 'alertResolved'; readonly alert: Readonly<Alert>; readonly at: number }
  | {
      readonly type: 'alertAcknowledged';
      readonly alert: Readonly<Alert>;
      readonly at: number;
      readonly by: string;
    };

/** One message to the receivers: the alerts of one rule and group that fired, escalated or resolved. */
export interface Notification {
  readonly rule: string;
  readonly group: Labels;
  readonly severity: Severity;
  readonly reason: 'fired' | 'escalated' | 'resolved';
  readonly alerts: readonly Readonly<Alert>[];
  /** The alert of the group whose condition began first: the likeliest root cause. */
  readonly rootCause: string | null;
  readonly at: number;
}

export interface Observation {
  readonly def: SeriesDef;
  readonly ts: number;
  readonly value: number;
  /** For anomaly findings: the calibrated score. */
  readonly anomalyScore?: number;
  /** For pattern findings: the pattern's name. */
  readonly pattern?: string;
  /** For complex events: the complex-event rule that raised it. */
  readonly complexEvent?: string;
}

/** Is this observation a finding (anomaly, pattern, complex event) rather than a sample? */
const isFinding = (o: Observation) =>
  o.anomalyScore !== undefined || o.pattern !== undefined || o.complexEvent !== undefined;
/** Rules on findings: they look only at findings, and resolve after `resolveAfterMs` without one. */
const isFindingRule = (rule: AlertRule) =>
  rule.condition.type === 'anomalyScore' ||
  rule.condition.type === 'pattern' ||
  rule.condition.type === 'complexEvent';

function holds(
  rule: AlertRule,
  o: Observation,
  previous: { ts: number; value: number } | undefined,
): boolean {
  const c = rule.condition;
  switch (c.type) {
    case 'threshold':
      return c.op === '>'
        ? o.value > c.value
        : c.op === '>='
          ? o.value >= c.value
          : c.op === '<'
            ? o.value < c.value
            : o.value <= c.value;
    case 'anomalyScore':
      return (o.anomalyScore ?? 0) >= c.min;
    case 'pattern':
      return o.pattern === c.pattern;
    case 'complexEvent':
      return o.complexEvent === c.rule;
    case 'rateOfChange':
      return (
        previous !== undefined &&
        o.ts > previous.ts &&
        Math.abs((o.value - previous.value) / ((o.ts - previous.ts) / 1000)) > c.perSecond
      );
    case 'absence':
      return false; // an arriving sample ends an absence; absence is found on ticks
  }
}

/** A new alert of `rule` on a series, pending since `since`. */
function newAlert(rule: AlertRule, def: SeriesDef, value: number, since: number): Alert {
  return {
    key: `${rule.id}|${def.id}`,
    rule: rule.id,
    seriesId: def.id,
    labels: { ...def.labels, __name__: def.name },
    status: 'pending',
    severity: rule.severity,
    since,
    firedAt: null,
    resolvedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalated: false,
    value,
  };
}

export function silenced(alert: Readonly<Alert>, silences: readonly Silence[], now: number): boolean {
  const labels: Record<string, string> = { ...alert.labels, alertname: alert.rule };
  return silences.some(
    (s) =>
      s.startsAt <= now &&
      now < s.endsAt &&
      Object.entries(s.matchers).every(
        ([k, pattern]) => labels[k] !== undefined && patternToRegExp(pattern).test(labels[k]!),
      ),
  );
}

/**
 * Alert evaluation, pure and deterministic: observations and clock ticks in, transitions and grouped
 * notifications out. An alert goes pending when its condition holds, fires when it has held for
 * `forMs`, escalates (once) when it is not acknowledged within `escalation.afterMs` of firing, and
 * resolves when the condition stops holding. Silenced alerts change state as usual but send nothing.
 */
export function createAlertEngine(rules: readonly AlertRule[]) {
  const alerts = new Map<string, Alert>();
  /** Per series: its last sample (data time, for rates) and when it was seen (the clock, for absence). */
  const last = new Map<string, { ts: number; seenAt: number; value: number; def: SeriesDef }>();
  let silences: Silence[] = [];

  function notify(transitions: AlertTransition[], now: number): Notification[] {
    const groups = new Map<
      string,
      Omit<Notification, 'severity'> & { severity: Severity; alerts: Alert[] }
    >();
    for (const t of transitions) {
      if (t.type === 'alertPending' || t.type === 'alertAcknowledged') continue;
      if (t.type === 'alertResolved' && t.alert.firedAt === null) continue; // it never fired: nothing to retract
      if (silenced(t.alert, silences, now)) continue;
      const rule = rules.find((r) => r.id === t.alert.rule);
      if (!rule) continue;
      const group = Object.fromEntries(rule.groupBy.map((k) => [k, t.alert.labels[k] ?? '']));
      const reason =
        t.type === 'alertFired' ? 'fired' : t.type === 'alertEscalated' ? 'escalated' : 'resolved';
      const key = `${rule.id}|${JSON.stringify(group)}|${reason}`;
      let n = groups.get(key);
      if (!n) {
        n = {
          rule: rule.id,
          group,
          severity: t.alert.severity,
          reason,
          alerts: [],
          rootCause: null,
          at: now,
        };
        groups.set(key, n);
      }
      n.alerts.push({ ...t.alert });
      if (severityRank(t.alert.severity) > severityRank(n.severity)) n.severity = t.alert.severity;
    }
    return [...groups.values()].map((n) => {
      // Root cause: of every alert of this rule and group still active, the one that began first.
      const active = [...alerts.values()].filter(
        (a) =>
          a.rule === n.rule &&
          a.status !== 'resolved' &&
          Object.entries(n.group).every(([k, v]) => (a.labels[k] ?? '') === v),
      );
      const first = (active.length ? active : n.alerts).reduce((a, b) => (b.since < a.since ? b : a));
      return { ...n, rootCause: first.key };
    });
  }

  function setState(alert: Alert, to: AlertStatus, at: number, out: AlertTransition[]): void {
    alert.status = to;
    if (to === 'firing') alert.firedAt = at;
    if (to === 'resolved') alert.resolvedAt = at;
    out.push({
      type: to === 'pending' ? 'alertPending' : to === 'firing' ? 'alertFired' : 'alertResolved',
      alert: { ...alert },
      at,
    });
  }

  function evaluate(
    rule: AlertRule,
    def: SeriesDef,
    value: number,
    condition: boolean,
    at: number,
    out: AlertTransition[],
  ): void {
    const key = `${rule.id}|${def.id}`;
    const alert = alerts.get(key);
    if (condition) {
      if (!alert || alert.status === 'resolved') {
        const next = newAlert(rule, def, value, at);
        alerts.set(key, next);
        setState(next, 'pending', at, out);
        if (rule.forMs === 0) setState(next, 'firing', at, out);
      } else {
        alert.value = value;
        if (alert.status === 'pending' && at - alert.since >= rule.forMs) setState(alert, 'firing', at, out);
      }
      alerts.get(key)!.lastTrueAt = at;
    } else if (alert && alert.status !== 'resolved') {
      setState(alert, 'resolved', at, out);
    }
  }

  return {
    /** Replaces the silences in force. */
    setSilences(list: readonly Silence[]): void {
      silences = [...list];
    },

    /** Continues from alerts recorded earlier (the alert manager's state rebuilt from its stream). */
    restore(recorded: readonly Alert[]): void {
      alerts.clear();
      for (const alert of recorded) alerts.set(alert.key, { ...alert, labels: { ...alert.labels } });
    },

    /** Does an absence rule watch this series (so its silence must be noticed even after a restart)? */
    watchesAbsence(def: SeriesDef): boolean {
      return rules.some((r) => r.condition.type === 'absence' && matches(r.match, def.name, def.labels));
    },

    /**
     * Series known to absence rules before a restart, not heard from since: their silence is counted
     * from `at` (the restart), so none fires early; a sample seen since takes precedence.
     */
    restoreWatched(watched: readonly { def: SeriesDef; value: number }[], at: number): void {
      for (const { def, value } of watched)
        if (!last.has(def.id)) last.set(def.id, { ts: Number.NEGATIVE_INFINITY, seenAt: at, value, def });
    },

    /**
     * Takes a sample or finding. `at` is when the alert manager handles it (its clock: for-durations
     * and escalations run on it, as ticks do); it defaults to the observation's own time.
     */
    observe(
      o: Observation,
      at = o.ts,
      notifyNow = true,
    ): { transitions: AlertTransition[]; notifications: Notification[] } {
      const out: AlertTransition[] = [];
      const previous = last.get(o.def.id);
      for (const rule of rules) {
        if (!matches(rule.match, o.def.name, o.def.labels)) continue;
        if (rule.condition.type === 'absence') {
          const key = `${rule.id}|${o.def.id}`;
          const alert = alerts.get(key);
          if (alert && alert.status !== 'resolved') setState(alert, 'resolved', at, out);
          continue;
        }
        // Finding rules look only at findings; the others only at samples.
        if (isFinding(o) !== isFindingRule(rule)) continue;
        evaluate(rule, o.def, o.value, holds(rule, o, previous), at, out);
      }
      if (!isFinding(o)) last.set(o.def.id, { ts: o.ts, seenAt: at, value: o.value, def: o.def });
      return { transitions: out, notifications: notifyNow ? notify(out, at) : [] };
    },

    /** Several observations handled at one time (one source event): their notifications grouped together. */
    observeAll(
      observations: readonly Observation[],
      at: number,
    ): { transitions: AlertTransition[]; notifications: Notification[] } {
      const transitions: AlertTransition[] = [];
      for (const o of observations) transitions.push(...this.observe(o, at, false).transitions);
      return { transitions, notifications: notify(transitions, at) };
    },

    /** Advances the clock: absence, `for` durations and escalations. */
    tick(now: number): { transitions: AlertTransition[]; notifications: Notification[] } {
      const out: AlertTransition[] = [];
      for (const rule of rules) {
        if (rule.condition.type !== 'absence') continue;
        for (const seen of last.values()) {
          if (!matches(rule.match, seen.def.name, seen.def.labels)) continue;
          const silentFor = now - seen.seenAt;
          const key = `${rule.id}|${seen.def.id}`;
          const alert = alerts.get(key);
          if (silentFor >= rule.forMs && (!alert || alert.status === 'resolved')) {
            const next = newAlert(rule, seen.def, seen.value, seen.seenAt);
            alerts.set(key, next);
            setState(next, 'firing', now, out);
          }
        }
      }
      for (const alert of alerts.values()) {
        const rule = rules.find((r) => r.id === alert.rule);
        if (!rule) continue; // its rule was removed from the configuration: leave it as recorded
        if (
          isFindingRule(rule) &&
          alert.status !== 'resolved' &&
          now - (alert.lastTrueAt ?? alert.since) >= rule.resolveAfterMs
        ) {
          setState(alert, 'resolved', now, out);
          continue;
        }
        if (alert.status === 'pending' && now - alert.since >= rule.forMs)
          setState(alert, 'firing', now, out);
        if (
          alert.status === 'firing' &&
          rule.escalation &&
          !alert.escalated &&
          alert.acknowledgedAt === null &&
          alert.firedAt !== null &&
          now - alert.firedAt >= rule.escalation.afterMs
        ) {
          const from = alert.severity;
          alert.escalated = true;
          if (severityRank(rule.escalation.to) > severityRank(alert.severity))
            alert.severity = rule.escalation.to;
          out.push({ type: 'alertEscalated', alert: { ...alert }, at: now, from });
        }
      }
      return { transitions: out, notifications: notify(out, now) };
    },

    acknowledge(key: string, by: string, at: number): AlertTransition | null {
      const alert = alerts.get(key);
      if (alert?.status !== 'firing' || alert.acknowledgedAt !== null) return null;
      alert.acknowledgedAt = at;
      alert.acknowledgedBy = by;
      return { type: 'alertAcknowledged', alert: { ...alert }, at, by };
    },

    get(key: string): Readonly<Alert> | undefined {
      return alerts.get(key);
    },

    active(): Readonly<Alert>[] {
      return [...alerts.values()].filter((a) => a.status !== 'resolved');
    },
  };
}
