import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
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
});
