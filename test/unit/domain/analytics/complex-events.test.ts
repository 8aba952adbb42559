import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  ComplexRules,
  createComplexEventEngine,
} from '../../../../src/domain/analytics/complex-events.js';

let n = 0;
const ev = (type: string, name: string, ts: number, host = 'h1'): AnalyticsEvent => ({
  id: `e${n++}`,
  type,
  name,
  labels: { host },
  ts,
});

describe('complex events', () => {
  it('raises a sequence (A then B within T) per host, once, naming its causes', () => {
    const engine = createComplexEventEngine([
      {
        kind: 'sequence',
        id: 'latency_then_errors',
        steps: [
          { type: 'anomalyDetected', name: 'latency*' },
          { type: 'anomalyDetected', name: 'errors_total' },
        ],
        withinMs: 60_000,
        by: ['host'],
      },
    ]);
    const a = ev('anomalyDetected', 'latency_ms', 0);
    expect(engine.push(a)).toEqual([]);
    expect(engine.push(ev('anomalyDetected', 'errors_total', 10_000, 'h2'))).toEqual([]); // other host
    const b = ev('anomalyDetected', 'errors_total', 30_000);
    expect(engine.push(b)).toEqual([
      { rule: 'latency_then_errors', ts: 30_000, group: { host: 'h1' }, causes: [a.id, b.id] },
    ]);
    expect(engine.push(ev('anomalyDetected', 'errors_total', 31_000))).toEqual([]); // consumed: once
    engine.push(ev('anomalyDetected', 'latency_ms', 100_000));
    expect(engine.push(ev('anomalyDetected', 'errors_total', 200_000))).toEqual([]); // too late
  });

  it('raises a count rule when N matching events fall within the window', () => {
    const engine = createComplexEventEngine([
      {
        kind: 'count',
        id: 'flapping',
        match: { type: 'anomalyDetected', name: 'cpu' },
        n: 3,
        windowMs: 10_000,
        by: [],
      },
    ]);
    expect(engine.push(ev('anomalyDetected', 'cpu', 0))).toEqual([]);
    expect(engine.push(ev('anomalyDetected', 'cpu', 5_000))).toEqual([]);
    expect(engine.push(ev('anomalyDetected', 'cpu', 20_000))).toEqual([]); // the first two aged out
    expect(engine.push(ev('trendChanged', 'cpu', 21_000))).toEqual([]); // other type
    expect(engine.push(ev('anomalyDetected', 'cpu', 22_000))).toEqual([]);
    const fired = engine.push(ev('anomalyDetected', 'cpu', 25_000));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.causes).toHaveLength(3);
  });

  it('continues exactly from a snapshot (JSON round trip)', () => {
    const rules = ComplexRules.parse([
      {
        kind: 'sequence',
        id: 'a_then_b',
        steps: [
          { type: 'anomalyDetected', name: 'a' },
          { type: 'trendChanged', name: 'b' },
        ],
        withinMs: 10_000,
        by: ['host'],
      },
      { kind: 'count', id: 'three_a', match: { type: 'anomalyDetected', name: 'a' }, n: 3, windowMs: 60_000 },
    ]);
    const stream = Array.from({ length: 40 }, (_, i) =>
      ev(i % 3 === 0 ? 'trendChanged' : 'anomalyDetected', i % 3 === 0 ? 'b' : 'a', i * 1500, `h${i % 2}`),
    );
    const whole = createComplexEventEngine(rules);
    const all = stream.map((e) => whole.push(e));
    const first = createComplexEventEngine(rules);
    for (const e of stream.slice(0, 17)) first.push(e);
    const resumed = createComplexEventEngine(rules);
    resumed.restore(JSON.parse(JSON.stringify(first.snapshot())));
    expect(stream.slice(17).map((e) => resumed.push(e))).toEqual(all.slice(17));
    expect(all.flat().length).toBeGreaterThan(3);
  });

  it('validates rules, naming the entry and field at fault', () => {
    const bad = ComplexRules.safeParse([
      { kind: 'sequence', id: 'x', steps: [{ type: 'alertFired', name: 'a' }], withinMs: 1000 },
      { kind: 'count', id: 'Y-1', match: { type: 'anomalyDetected' }, n: 0, windowMs: 1000 },
    ]);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['0.steps.0.type', '1.id', '1.n']);
    const duplicate = ComplexRules.safeParse([
      { kind: 'count', id: 'x', match: { type: 'anomalyDetected' }, n: 2, windowMs: 1000 },
      { kind: 'count', id: 'x', match: { type: 'anomalyDetected' }, n: 3, windowMs: 1000 },
    ]);
    expect(duplicate.error?.issues[0]?.message).toBe('rule ids must be unique');
  });

  it('keeps one partial match a step per group, however many starts arrive (the latest one)', () => {
    const engine = createComplexEventEngine(
      ComplexRules.parse([
        {
          kind: 'sequence',
          id: 'a_then_b',
          steps: [
            { type: 'anomalyDetected', name: 'a' },
            { type: 'trendChanged', name: 'b' },
          ],
          withinMs: 3_600_000,
        },
      ]),
    );
    for (let i = 0; i < 20_000; i++) engine.push(ev('anomalyDetected', 'a', i));
    expect(engine.snapshot().partial).toEqual([
      ['a_then_b|{}', [{ step: 1, first: 19_999, causes: [`e${n - 1}`] }]],
    ]);
    const b = ev('trendChanged', 'b', 30_000);
    expect(engine.push(b)).toEqual([
      { rule: 'a_then_b', ts: 30_000, group: {}, causes: [`e${n - 2}`, b.id] },
    ]);
    expect(engine.snapshot().partial).toEqual([]);
  });
});
