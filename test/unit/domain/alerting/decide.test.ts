import { describe, expect, it } from 'vitest';
import {
  type Decision,
  decideAcknowledge,
  decideObservations,
  decideTick,
  type Observation,
} from '../../../../src/domain/alerting/decide.js';
import { AlertRule, type AlertRuleInput } from '../../../../src/domain/alerting/rules.js';
import {
  type AlertManagerState,
  evolveAlerts,
  initialAlertState,
} from '../../../../src/domain/alerting/state.js';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';

const rule = (input: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'condition'>) =>
  AlertRule.parse({ id: 'high_cpu', match: { name: 'cpu' }, severity: 'warning', ...input });
const cpu = (host: string, dc = 'eu') => defineSeries({ name: 'cpu', labels: { host, dc }, kind: 'gauge' });

/** A manager's state as the decider sees it: each decision's facts folded in, as recording them would. */
function manager(rules: AlertRule[]) {
  let state: AlertManagerState = initialAlertState('test');
  let position = 0;
  const take = (decision: Decision) => {
    for (const t of decision.transitions) state = evolveAlerts(state, t);
    if (decision.observed) state = evolveAlerts(state, decision.observed);
    expect(state).toEqual(decision.state); // the decision's own state is the fold of its facts
    return decision;
  };
  return {
    get state() {
      return state;
    },
    set state(next: AlertManagerState) {
      state = next;
    },
    observe: (o: Observation, at = o.ts) =>
      take(decideObservations(state, rules, [o], at, String(++position))),
    observeAll: (os: Observation[], at: number) =>
      take(decideObservations(state, rules, os, at, String(++position))),
    tick: (now: number) => take(decideTick(state, rules, now)),
    acknowledge(key: string, by: string, at: number) {
      const t = decideAcknowledge(state, key, by, at);
      if (t) state = evolveAlerts(state, t);
      return t;
    },
  };
}

describe('alert decisions', () => {
  it('goes pending, fires after the for-duration, and resolves, notifying on fire and resolve', () => {
    const m = manager([rule({ condition: { type: 'threshold', op: '>', value: 90 }, forMs: 60_000 })]);
    const h = cpu('a');
    let r = m.observe({ def: h, ts: 0, value: 95 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertPending']);
    expect(r.notifications).toEqual([]);
    r = m.observe({ def: h, ts: 30_000, value: 97 });
    expect(r.transitions).toEqual([]);
    r = m.observe({ def: h, ts: 60_000, value: 96 });
    expect(r.transitions.map((t) => [t.type, t.value])).toEqual([['alertFired', 96]]);
    expect(r.notifications).toMatchObject([{ rule: 'high_cpu', reason: 'fired', severity: 'warning' }]);
    r = m.observe({ def: h, ts: 90_000, value: 50 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertResolved']);
    expect(r.notifications[0]!.reason).toBe('resolved');
    // A blip shorter than the for-duration never fires.
    m.observe({ def: h, ts: 100_000, value: 99 });
    expect(m.observe({ def: h, ts: 110_000, value: 10 }).notifications).toEqual([]);
  });

  it('escalates an unacknowledged alert once, and not an acknowledged one', () => {
    const m = manager([
      rule({
        condition: { type: 'threshold', op: '>=', value: 90 },
        escalation: { afterMs: 300_000, to: 'critical' },
      }),
    ]);
    m.observe({ def: cpu('a'), ts: 0, value: 95 });
    m.observe({ def: cpu('b'), ts: 0, value: 95 });
    expect(m.acknowledge(`high_cpu|${cpu('b').id}`, 'user:ann', 100_000)?.type).toBe('alertAcknowledged');
    expect(m.acknowledge(`high_cpu|${cpu('b').id}`, 'user:bob', 100_001)).toBeNull();
    expect(m.tick(299_999).transitions).toEqual([]);
    const r = m.tick(300_000);
    expect(r.transitions.map((t) => [t.type, t.labels.host, t.severity])).toEqual([
      ['alertEscalated', 'a', 'critical'],
    ]);
    expect(r.notifications).toMatchObject([{ reason: 'escalated', severity: 'critical' }]);
    expect(m.tick(900_000).transitions).toEqual([]);
  });

  it('groups alerts of one rule by labels into one notification, naming the root cause', () => {
    const m = manager([
      rule({ condition: { type: 'threshold', op: '>', value: 90 }, forMs: 10_000, groupBy: ['dc'] }),
    ]);
    m.observe({ def: cpu('a'), ts: 0, value: 95 });
    m.observe({ def: cpu('b'), ts: 5_000, value: 95 });
    m.observe({ def: cpu('c', 'us'), ts: 5_000, value: 95 });
    const r = m.tick(20_000);
    expect(r.notifications.map((n) => [n.group, n.alerts.map((a) => a.labels.host)])).toEqual([
      [{ dc: 'eu' }, ['a', 'b']],
      [{ dc: 'us' }, ['c']],
    ]);
    expect(r.notifications[0]!.rootCause).toBe(`high_cpu|${cpu('a').id}`);
  });

  it('changes state under a silence but sends nothing, until the silence ends', () => {
    const m = manager([rule({ condition: { type: 'threshold', op: '>', value: 90 } })]);
    m.state = evolveAlerts(m.state, {
      type: 'silenceCreated',
      silence: {
        id: 's1',
        matchers: { alertname: 'high_cpu', host: 'a*' },
        startsAt: 0,
        endsAt: 1000,
        comment: '',
        createdBy: 'ann',
      },
    });
    let r = m.observe({ def: cpu('a1'), ts: 10, value: 95 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertPending', 'alertFired']);
    expect(r.notifications).toEqual([]);
    r = m.observe({ def: cpu('b'), ts: 20, value: 95 });
    expect(r.notifications).toHaveLength(1);
    m.observe({ def: cpu('a2'), ts: 10, value: 1 });
    r = m.observe({ def: cpu('a2'), ts: 2000, value: 95 });
    expect(r.notifications).toHaveLength(1);
  });

  it('fires on absence of data, on rate of change and on anomaly findings', () => {
    const absence = manager([rule({ id: 'gone', condition: { type: 'absence' }, forMs: 60_000 })]);
    const seen = absence.observe({ def: cpu('a'), ts: 0, value: 1 });
    expect(seen.observed?.series.map((s) => s.name)).toEqual(['cpu']); // the sighting is a fact
    // Seen again within a quarter of forMs: no new fact (a sighting now and then, not per batch)…
    expect(absence.observe({ def: cpu('a'), ts: 10_000, value: 1 }, 10_000).observed).toBeNull();
    // …past it, a new one.
    expect(absence.observe({ def: cpu('a'), ts: 15_000, value: 1 }, 15_000).observed?.series).toHaveLength(1);
    // The sighting may lag the last sample by that quarter: the alert never fires early, and fires
    // by forMs + forMs / 4 after the last recorded sighting.
    expect(absence.tick(15_000 + 60_000).transitions).toEqual([]);
    expect(absence.tick(15_000 + 74_999).transitions).toEqual([]);
    expect(absence.tick(15_000 + 75_000).transitions.map((t) => t.type)).toEqual(['alertFired']);
    expect(
      absence.observe({ def: cpu('a'), ts: 100_000, value: 1 }, 100_000).transitions.map((t) => t.type),
    ).toEqual(['alertResolved']);

    const rate = manager([rule({ id: 'jump', condition: { type: 'rateOfChange', perSecond: 10 } })]);
    rate.observe({ def: cpu('a'), ts: 0, value: 10 });
    expect(rate.observe({ def: cpu('a'), ts: 1000, value: 15 }).transitions).toEqual([]);
    expect(rate.observe({ def: cpu('a'), ts: 2000, value: 40 }).transitions.map((t) => t.type)).toEqual([
      'alertPending',
      'alertFired',
    ]);

    const anomaly = manager([rule({ id: 'odd', condition: { type: 'anomalyScore', min: 0.9 } })]);
    expect(anomaly.observe({ def: cpu('a'), ts: 0, value: 99 }).transitions).toEqual([]); // a sample, not a finding
    expect(
      anomaly.observe({ def: cpu('a'), ts: 0, value: 99, anomalyScore: 0.95 }).transitions.map((t) => t.type),
    ).toEqual(['alertPending', 'alertFired']);
    // Threshold rules remember nothing per series: no fact for their samples beyond transitions.
    const plain = manager([rule({ condition: { type: 'threshold', op: '>', value: 90 } })]);
    expect(plain.observe({ def: cpu('a'), ts: 0, value: 1 }).observed).toBeNull();
  });

  it('names bad rules precisely', () => {
    expect(() =>
      AlertRule.parse({
        id: 'X',
        match: {},
        condition: { type: 'threshold', op: '!', value: 1 },
        severity: 'loud',
      }),
    ).toThrow(/id[\s\S]*op[\s\S]*severity|must be lower-case/);
  });

  it('groups one source event into one notification, resolves quiet finding alerts, and survives a removed rule', () => {
    const m = manager([rule({ condition: { type: 'threshold', op: '>', value: 90 }, groupBy: ['dc'] })]);
    const r = m.observeAll(
      [
        { def: cpu('a'), ts: 0, value: 95 },
        { def: cpu('b'), ts: 0, value: 96 },
        { def: cpu('c'), ts: 0, value: 97 },
      ],
      10,
    );
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0]!.alerts).toHaveLength(3);

    const findings = manager([
      rule({ id: 'odd', condition: { type: 'anomalyScore', min: 0.9 }, resolveAfterMs: 1000 }),
    ]);
    findings.observe({ def: cpu('a'), ts: 0, value: 1, anomalyScore: 0.99 }, 0);
    // Holding again is a fact too: the quiet period starts over from it.
    expect(
      findings.observe({ def: cpu('a'), ts: 0, value: 2, anomalyScore: 0.99 }, 500).observed?.renewed,
    ).toEqual([{ key: `odd|${cpu('a').id}`, value: 2 }]);
    expect(findings.tick(1499).transitions).toEqual([]);
    expect(findings.tick(1500).transitions.map((t) => t.type)).toEqual(['alertResolved']);

    const orphan = manager([]);
    orphan.state = findings.state;
    expect(() => orphan.tick(5000)).not.toThrow();
  });

  it('refuses an absence rule without a silence duration', () => {
    expect(() => rule({ id: 'gone', condition: { type: 'absence' } })).toThrow(
      /absence rule needs forMs > 0/,
    );
  });
});
