import type { Labels, SeriesDef } from '../metrics/kinds.js';
import { matches, patternToRegExp } from '../pipeline/match.js';
import { type Cadence, isRegular } from './cadence.js';
import type { AlertEvent } from './events.js';
import { type AlertRule, type Severity, type Silence, severityRank } from './rules.js';
import { type AlertManagerState, type AlertRecord, evolveAlerts } from './state.js';

/** A transition the manager decided: the fact to record. */
export type AlertTransition = Extract<AlertEvent, { key: string }>;

/** One message to the receivers: the alerts of one rule and group that fired, escalated or resolved. */
export interface Notification {
  readonly rule: string;
  readonly group: Labels;
  readonly severity: Severity;
  readonly reason: 'fired' | 'escalated' | 'resolved';
  readonly alerts: readonly AlertRecord[];
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

/** What a decision produced: the facts to record (in order) and the notifications they raise. */
export interface Decision {
  readonly transitions: readonly AlertTransition[];
  readonly observed: Extract<AlertEvent, { type: 'inputsObserved' }> | null;
  readonly notifications: readonly Notification[];
  /** The state once the transitions and the observation are recorded. */
  readonly state: AlertManagerState;
}

/** Is this observation a finding (anomaly, pattern, complex event) rather than a sample? */
const isFinding = (o: Observation) =>
  o.anomalyScore !== undefined || o.pattern !== undefined || o.complexEvent !== undefined;
/** Rules on findings: they look only at findings, and resolve after `resolveAfterMs` without one. */
const isFindingRule = (rule: AlertRule) =>
  rule.condition.type === 'anomalyScore' ||
  rule.condition.type === 'pattern' ||
  rule.condition.type === 'complexEvent';
/**
 * A series an absence rule watches is recorded as seen when first seen, and again only once its
 * recorded sighting is older than forMs / ABSENCE_STEPS: a fact per few batches, not per batch.
 */
const ABSENCE_STEPS = 4;
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

export function silenced(
  alert: Pick<AlertRecord, 'rule' | 'labels'>,
  silences: readonly Silence[],
  now: number,
): boolean {
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
 * Decisions record each transition as soon as it is decided (folding it into a working state), so that
 * later checks in the same decision see it, exactly as the manager will once the facts are recorded.
 */
class Working {
  readonly transitions: AlertTransition[] = [];
  /** Each transition's alert as that transition left it. */
  readonly snapshots: AlertRecord[] = [];
  constructor(
    public state: AlertManagerState,
    readonly sourcePosition: string | null,
  ) {}

  record(
    type: AlertTransition['type'],
    alert: Pick<AlertRecord, 'key' | 'rule' | 'seriesId' | 'labels' | 'severity' | 'value' | 'since'>,
    at: number,
    extra: { from?: Severity; by?: string; evidence?: Record<string, number> } = {},
  ): void {
    const fact = {
      type,
      key: alert.key,
      rule: alert.rule,
      seriesId: alert.seriesId,
      labels: alert.labels,
      severity: alert.severity,
      value: alert.value,
      since: alert.since,
      at,
      sourcePosition: this.sourcePosition,
      ...extra,
    } as AlertTransition;
    this.transitions.push(fact);
    this.state = evolveAlerts(this.state, fact);
    this.snapshots.push(this.state.alerts[fact.key]!);
  }
}

const alertOf = (
  rule: AlertRule,
  seriesId: string,
  name: string,
  labels: Labels,
  value: number,
  since: number,
) => ({
  key: `${rule.id}|${seriesId}`,
  rule: rule.id,
  seriesId,
  labels: { ...labels, __name__: name },
  severity: rule.severity,
  value,
  since,
});

function evaluate(
  work: Working,
  rule: AlertRule,
  o: Observation,
  condition: boolean,
  at: number,
  renewed: Map<string, number>,
): void {
  const key = `${rule.id}|${o.def.id}`;
  const alert = work.state.alerts[key];
  if (condition) {
    if (!alert || alert.status === 'resolved') {
      const next = alertOf(rule, o.def.id, o.def.name, o.def.labels, o.value, at);
      work.record('alertPending', next, at);
      if (rule.forMs === 0) work.record('alertFired', next, at);
    } else if (alert.status === 'pending' && at - alert.since >= rule.forMs) {
      work.record('alertFired', { ...alert, value: o.value }, at);
    } else if (isFindingRule(rule)) {
      renewed.set(key, o.value); // it holds again: its quiet period starts over
    }
  } else if (alert && alert.status !== 'resolved') {
    work.record('alertResolved', alert, at);
  }
}

/** Groups transitions into notifications per rule, group labels and reason; silenced alerts send nothing. */
function notify(
  rules: readonly AlertRule[],
  state: AlertManagerState,
  work: Working,
  now: number,
): Notification[] {
  const silences = Object.values(state.silences);
  const groups = new Map<
    string,
    { rule: string; group: Labels; severity: Severity; reason: Notification['reason']; alerts: AlertRecord[] }
  >();
  for (const [i, t] of work.transitions.entries()) {
    if (t.type === 'alertPending' || t.type === 'alertAcknowledged') continue;
    const alert = work.snapshots[i]!;
    if (t.type === 'alertResolved' && alert.firedAt === null) continue; // it never fired: nothing to retract
    if (silenced(alert, silences, now)) continue;
    const rule = rules.find((r) => r.id === t.rule);
    if (!rule) continue;
    const group = Object.fromEntries(rule.groupBy.map((k) => [k, t.labels[k] ?? '']));
    const reason = t.type === 'alertFired' ? 'fired' : t.type === 'alertEscalated' ? 'escalated' : 'resolved';
    const key = `${rule.id}|${JSON.stringify(group)}|${reason}`;
    let n = groups.get(key);
    if (!n) {
      n = { rule: rule.id, group, severity: t.severity, reason, alerts: [] };
      groups.set(key, n);
    }
    n.alerts.push(alert);
    if (severityRank(t.severity) > severityRank(n.severity)) n.severity = t.severity;
  }
  return [...groups.values()].map((n) => {
    // Root cause: of every alert of this rule and group still active, the one that began first.
    const active = Object.values(state.alerts).filter(
      (a) =>
        a.rule === n.rule &&
        a.status !== 'resolved' &&
        Object.entries(n.group).every(([k, v]) => (a.labels[k] ?? '') === v),
    );
    const first = (active.length ? active : n.alerts).reduce((a, b) => (b.since < a.since ? b : a));
    return { ...n, rootCause: first.key, at: now };
  });
}

/**
 * Takes the observations of one source event (a batch of samples, a finding, a complex event) at the
 * manager's time `at`. An alert goes pending when its condition holds, fires once it has held for
 * `forMs`, and resolves when it stops holding; an arriving sample ends an absence.
 */
export function decideObservations(
  state: AlertManagerState,
  rules: readonly AlertRule[],
  observations: readonly Observation[],
  at: number,
  sourcePosition: string,
): Decision {
  const work = new Working(state, sourcePosition);
  const renewed = new Map<string, number>();
  const seen = new Map<
    string,
    { seriesId: string; name: string; labels: Labels; value: number; ts: number }
  >();
  // The rules a series matches, worked out once a series (a batch holds many samples of each).
  const matching = new Map<string, AlertRule[]>();
  for (const o of observations) {
    const recorded = work.state.series[o.def.id];
    const memory = seen.get(o.def.id) ?? recorded;
    let needsRate = false;
    let absenceFor = Number.POSITIVE_INFINITY;
    let applies = matching.get(o.def.id);
    if (!applies) {
      applies = rules.filter((rule) => matches(rule.match, o.def.name, o.def.labels));
      matching.set(o.def.id, applies);
    }
    for (const rule of applies) {
      if (!isFinding(o) && rule.condition.type === 'rateOfChange') needsRate = true;
      if (!isFinding(o) && rule.condition.type === 'absence') absenceFor = Math.min(absenceFor, rule.forMs);
      if (rule.condition.type === 'absence') {
        const alert = work.state.alerts[`${rule.id}|${o.def.id}`];
        if (alert && alert.status !== 'resolved') work.record('alertResolved', alert, at);
        continue;
      }
      // Finding rules look only at findings; the others only at samples.
      if (isFinding(o) !== isFindingRule(rule)) continue;
      evaluate(work, rule, o, holds(rule, o, memory), at, renewed);
    }
    // A rate needs every last sample; an absence only a sighting now and then (see ABSENCE_STEPS).
    const remember =
      needsRate ||
      (absenceFor < Number.POSITIVE_INFINITY &&
        (!recorded || at - recorded.seenAt >= absenceFor / ABSENCE_STEPS));
    if (remember)
      seen.set(o.def.id, {
        seriesId: o.def.id,
        name: o.def.name,
        labels: o.def.labels,
        value: o.value,
        ts: o.ts,
      });
  }
  const observed =
    seen.size || renewed.size
      ? {
          type: 'inputsObserved' as const,
          sourcePosition,
          at,
          series: [...seen.values()],
          renewed: [...renewed].map(([key, value]) => ({ key, value })),
        }
      : null;
  const after = observed ? evolveAlerts(work.state, observed) : work.state;
  return {
    transitions: work.transitions,
    observed,
    notifications: notify(rules, after, work, at),
    state: after,
  };
}

/** What the clock needs besides the state: the cadences of the series silent long enough to ask about. */
export interface TickInputs {
  /** The cadence of a series (from its stored samples); undefined when not looked up. */
  readonly cadence?: (seriesId: string) => Cadence | null | undefined;
  /** Idle series are evicted after this much silence: an absence must fire well before it. */
  readonly evictAfterMs?: number;
}

/** The series an absence rule with `missedIntervals` needs the cadence of now (silent at least `forMs`). */
export function cadenceCandidates(
  state: AlertManagerState,
  rules: readonly AlertRule[],
  now: number,
): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    if (rule.condition.type !== 'absence' || rule.condition.missedIntervals === undefined) continue;
    for (const [seriesId, seen] of Object.entries(state.series)) {
      const alert = state.alerts[`${rule.id}|${seriesId}`];
      if (alert && alert.status !== 'resolved') continue;
      if (
        matches(rule.match, seen.name, seen.labels) &&
        now - seen.seenAt - rule.forMs / ABSENCE_STEPS >= rule.forMs
      )
        out.add(seriesId);
    }
  }
  return [...out];
}

/** Advances the manager's clock: absence, `for` durations, quiet finding alerts, escalations. */
export function decideTick(
  state: AlertManagerState,
  rules: readonly AlertRule[],
  now: number,
  inputs: TickInputs = {},
): Decision {
  const work = new Working(state, null);
  for (const rule of rules) {
    if (rule.condition.type !== 'absence') continue;
    const missed = rule.condition.missedIntervals;
    for (const [seriesId, seen] of Object.entries(work.state.series)) {
      if (!matches(rule.match, seen.name, seen.labels)) continue;
      const alert = work.state.alerts[`${rule.id}|${seriesId}`];
      if (alert && alert.status !== 'resolved') continue;
      // The sighting may lag the last sample by a step: the silence counts from it plus that step, so
      // an absence alert never fires early (it fires between forMs and forMs + forMs / ABSENCE_STEPS).
      const silentFor = now - seen.seenAt - rule.forMs / ABSENCE_STEPS;
      if (silentFor < rule.forMs) continue;
      if (missed === undefined) {
        work.record(
          'alertFired',
          alertOf(rule, seriesId, seen.name, seen.labels, seen.value, seen.seenAt),
          now,
        );
        continue;
      }
      // Only a regular series is absent, after `missed` of its intervals, and never as late as its eviction.
      const cadence = inputs.cadence?.(seriesId);
      if (!isRegular(cadence)) continue;
      const threshold = Math.max(rule.forMs, missed * cadence.intervalMs);
      if (silentFor < threshold) continue;
      if (inputs.evictAfterMs !== undefined && threshold >= inputs.evictAfterMs) continue;
      work.record(
        'alertFired',
        alertOf(rule, seriesId, seen.name, seen.labels, seen.value, seen.seenAt),
        now,
        {
          evidence: {
            intervalMs: cadence.intervalMs,
            spread: cadence.spread,
            intervals: cadence.intervals,
            missedIntervals: missed,
            silentMs: Math.round(now - seen.seenAt),
          },
        },
      );
    }
  }
  for (const alert of Object.values(work.state.alerts)) {
    const rule = rules.find((r) => r.id === alert.rule);
    if (!rule || alert.status === 'resolved') continue; // a removed rule's alerts stay as recorded
    if (isFindingRule(rule) && now - alert.lastTrueAt >= rule.resolveAfterMs) {
      work.record('alertResolved', alert, now);
      continue;
    }
    if (alert.status === 'pending' && now - alert.since >= rule.forMs) work.record('alertFired', alert, now);
    const current = work.state.alerts[alert.key]!;
    if (
      current.status === 'firing' &&
      rule.escalation &&
      !current.escalated &&
      current.acknowledgedAt === null &&
      current.firedAt !== null &&
      now - current.firedAt >= rule.escalation.afterMs
    ) {
      const to =
        severityRank(rule.escalation.to) > severityRank(current.severity)
          ? rule.escalation.to
          : current.severity;
      work.record('alertEscalated', { ...current, severity: to }, now, { from: current.severity });
    }
  }
  return {
    transitions: work.transitions,
    observed: null,
    notifications: notify(rules, work.state, work, now),
    state: work.state,
  };
}

/** An acknowledgement: only of a firing alert not acknowledged yet. */
export function decideAcknowledge(
  state: AlertManagerState,
  key: string,
  by: string,
  at: number,
): AlertTransition | null {
  const alert = state.alerts[key];
  if (alert?.status !== 'firing' || alert.acknowledgedAt !== null) return null;
  const work = new Working(state, null);
  work.record('alertAcknowledged', alert, at, { by });
  return work.transitions[0]!;
}
