import { describe, expect, it } from 'vitest';
import { createAlertEngine } from '../../../../src/domain/alerting/engine.js';
import { AlertRule, type AlertRuleInput } from '../../../../src/domain/alerting/rules.js';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';

const rule = (input: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'condition'>) =>
  AlertRule.parse({ id: 'high_cpu', match: { name: 'cpu' }, severity: 'warning', ...input });
const cpu = (host: string, dc = 'eu') => defineSeries({ name: 'cpu', labels: { host, dc }, kind: 'gauge' });

describe('alert engine', () => {
  it('goes pending, fires after the for-duration, and resolves, notifying on fire and resolve', () => {
    const engine = createAlertEngine([
      rule({ condition: { type: 'threshold', op: '>', value: 90 }, forMs: 60_000 }),
    ]);
    const h = cpu('a');
    let r = engine.observe({ def: h, ts: 0, value: 95 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertPending']);
    expect(r.notifications).toEqual([]);
    r = engine.observe({ def: h, ts: 30_000, value: 97 });
    expect(r.transitions).toEqual([]);
    r = engine.observe({ def: h, ts: 60_000, value: 96 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertFired']);
    expect(r.notifications).toMatchObject([{ rule: 'high_cpu', reason: 'fired', severity: 'warning' }]);
    r = engine.observe({ def: h, ts: 90_000, value: 50 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertResolved']);
    expect(r.notifications[0]!.reason).toBe('resolved');
    // A blip shorter than the for-duration never fires.
    engine.observe({ def: h, ts: 100_000, value: 99 });
    expect(engine.observe({ def: h, ts: 110_000, value: 10 }).notifications).toEqual([]);
  });

  it('escalates an unacknowledged alert once, and not an acknowledged one', () => {
    const engine = createAlertEngine([
      rule({
        condition: { type: 'threshold', op: '>=', value: 90 },
        escalation: { afterMs: 300_000, to: 'critical' },
      }),
    ]);
    engine.observe({ def: cpu('a'), ts: 0, value: 95 });
    engine.observe({ def: cpu('b'), ts: 0, value: 95 });
    expect(engine.acknowledge(`high_cpu|${cpu('b').id}`, 'user:ann', 100_000)?.type).toBe(
      'alertAcknowledged',
    );
    expect(engine.tick(299_999).transitions).toEqual([]);
    const r = engine.tick(300_000);
    expect(r.transitions.map((t) => [t.type, t.alert.labels.host])).toEqual([['alertEscalated', 'a']]);
    expect(r.notifications).toMatchObject([{ reason: 'escalated', severity: 'critical' }]);
    expect(engine.tick(900_000).transitions).toEqual([]);
  });

  it('groups alerts of one rule by labels into one notification, naming the root cause', () => {
    const engine = createAlertEngine([
      rule({ condition: { type: 'threshold', op: '>', value: 90 }, forMs: 10_000, groupBy: ['dc'] }),
    ]);
    engine.observe({ def: cpu('a'), ts: 0, value: 95 });
    engine.observe({ def: cpu('b'), ts: 5_000, value: 95 });
    engine.observe({ def: cpu('c', 'us'), ts: 5_000, value: 95 });
    const r = engine.tick(20_000);
    expect(r.notifications.map((n) => [n.group, n.alerts.map((a) => a.labels.host)])).toEqual([
      [{ dc: 'eu' }, ['a', 'b']],
      [{ dc: 'us' }, ['c']],
    ]);
    expect(r.notifications[0]!.rootCause).toBe(`high_cpu|${cpu('a').id}`);
  });

  it('changes state under a silence but sends nothing, until the silence ends', () => {
    const engine = createAlertEngine([rule({ condition: { type: 'threshold', op: '>', value: 90 } })]);
    engine.setSilences([
      {
        id: 's1',
        matchers: { alertname: 'high_cpu', host: 'a*' },
        startsAt: 0,
        endsAt: 1000,
        comment: '',
        createdBy: 'ann',
      },
    ]);
    let r = engine.observe({ def: cpu('a1'), ts: 10, value: 95 });
    expect(r.transitions.map((t) => t.type)).toEqual(['alertPending', 'alertFired']);
    expect(r.notifications).toEqual([]);
    r = engine.observe({ def: cpu('b'), ts: 20, value: 95 });
    expect(r.notifications).toHaveLength(1);
    engine.observe({ def: cpu('a2'), ts: 10, value: 1 });
    r = engine.observe({ def: cpu('a2'), ts: 2000, value: 95 });
    expect(r.notifications).toHaveLength(1);
  });

  it('fires on absence of data, on rate of change and on anomaly findings', () => {
    const absence = createAlertEngine([rule({ id: 'gone', condition: { type: 'absence' }, forMs: 60_000 })]);
    absence.observe({ def: cpu('a'), ts: 0, value: 1 });
    expect(absence.tick(59_999).transitions).toEqual([]);
    expect(absence.tick(60_000).transitions.map((t) => t.type)).toEqual(['alertFired']);
    expect(absence.observe({ def: cpu('a'), ts: 70_000, value: 1 }).transitions.map((t) => t.type)).toEqual([
      'alertResolved',
    ]);

    const rate = createAlertEngine([
      rule({ id: 'jump', condition: { type: 'rateOfChange', perSecond: 10 } }),
    ]);
    rate.observe({ def: cpu('a'), ts: 0, value: 10 });
    expect(rate.observe({ def: cpu('a'), ts: 1000, value: 15 }).transitions).toEqual([]);
    expect(rate.observe({ def: cpu('a'), ts: 2000, value: 40 }).transitions.map((t) => t.type)).toEqual([
      'alertPending',
      'alertFired',
    ]);

    const anomaly = createAlertEngine([rule({ id: 'odd', condition: { type: 'anomalyScore', min: 0.9 } })]);
    expect(anomaly.observe({ def: cpu('a'), ts: 0, value: 99 }).transitions).toEqual([]); // a sample, not a finding
    expect(
      anomaly.observe({ def: cpu('a'), ts: 0, value: 99, anomalyScore: 0.95 }).transitions.map((t) => t.type),
    ).toEqual(['alertPending', 'alertFired']);
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
});

describe('alert engine, after review', () => {
  it('groups one source event into one notification, resolves quiet finding alerts, and survives a removed rule', () => {
    const engine = createAlertEngine([
      rule({ condition: { type: 'threshold', op: '>', value: 90 }, groupBy: ['dc'] }),
    ]);
    const r = engine.observeAll(
      [
        { def: cpu('a'), ts: 0, value: 95 },
        { def: cpu('b'), ts: 0, value: 96 },
        { def: cpu('c'), ts: 0, value: 97 },
      ],
      10,
    );
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0]!.alerts).toHaveLength(3);

    const findings = createAlertEngine([
      rule({ id: 'odd', condition: { type: 'anomalyScore', min: 0.9 }, resolveAfterMs: 1000 }),
    ]);
    findings.observe({ def: cpu('a'), ts: 0, value: 1, anomalyScore: 0.99 }, 0);
    expect(findings.tick(999).transitions).toEqual([]);
    expect(findings.tick(1000).transitions.map((t) => t.type)).toEqual(['alertResolved']);

    const restored = createAlertEngine([]);
    restored.restore([{ ...findings.get(`odd|${cpu('a').id}`)!, status: 'firing' }]);
    expect(() => restored.tick(5000)).not.toThrow();
  });

  it('refuses an absence rule without a silence duration', () => {
    expect(() => rule({ id: 'gone', condition: { type: 'absence' } })).toThrow(
      /absence rule needs forMs > 0/,
    );
  });
});
