import { describe, expect, it } from 'vitest';
import { ContextOse } from '../../../../src/domain/analytics/context-ose.js';
import { ContextOseDetector } from '../../../../src/domain/analytics/context-ose-detector.js';

/** Deterministic noise in [-0.5, 0.5]. */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
/** 0, 1, …, 7, 0, 1, … : every level of a 3-bit range, in a fixed order. */
const ramp = (length: number) => Array.from({ length }, (_, i) => i % 8);

describe('CAD OSE (context operator over a fixed range)', () => {
  it('learns a repeating sequence until every value is predicted, then scores a break in it', () => {
    const steady = new ContextOse(0, 7);
    const scores = ramp(400).map((v) => steady.update(v));
    expect(scores.slice(0, 30).every((s) => s === 0)).toBe(true); // the initial rest
    expect(Math.max(...scores.slice(100))).toBe(0);
    expect(steady.contexts).toBe(120);

    const values = ramp(400);
    values[300] = 3; // 4 expected
    const broken = new ContextOse(0, 7);
    const out = values.map((v) => broken.update(v));
    expect(Math.max(...out.slice(100, 300))).toBe(0);
    expect(out[300]).toBeGreaterThan(0.95);
    expect(out.slice(301, 331).every((s) => s === 0)).toBe(true); // rests after its alarm
  });

  it('bounds its context memory', () => {
    const detector = new ContextOse(-0.5, 0.5, { maxContexts: 100 });
    for (let i = 0; i < 2000; i++) detector.update(noise(i));
    expect(detector.contexts).toBe(100);
  });
});

describe('CAD OSE on a stream', () => {
  const stream = (length: number) =>
    Array.from({ length }, (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 24) + noise(i));

  it('never looks ahead: a score depends only on the values up to it', () => {
    const values = stream(600);
    const other = [...values.slice(0, 400), ...values.slice(400).map((v) => v * 3)];
    const a = new ContextOseDetector();
    const b = new ContextOseDetector();
    const sa = values.map((v) => a.update(v)?.score ?? null);
    const sb = other.map((v) => b.update(v)?.score ?? null);
    expect(sb.slice(0, 400)).toEqual(sa.slice(0, 400));
  });

  it('re-learns the recent past when the range grows, and flags the new extreme', () => {
    const values = stream(700);
    values[600] = 40; // far above the range seen so far
    const detector = new ContextOseDetector({ relearn: 500 });
    const scores = values.map((v) => detector.update(v)?.score ?? null);
    expect(scores.slice(0, 30).every((s) => s === null)).toBe(true);
    expect(scores[600]).toBeGreaterThan(0.75);
  });

  it('continues identically after a snapshot through JSON, across a re-learning', () => {
    const values = stream(900);
    values[700] = 40;
    const a = new ContextOseDetector({ relearn: 300 });
    for (const v of values.slice(0, 500)) a.update(v);
    const b = new ContextOseDetector({ relearn: 300 });
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = values.slice(500);
    const fromB = rest.map((v) => b.update(v));
    expect(fromB).toEqual(rest.map((v) => a.update(v)));
    expect(a.contexts).toBe(b.contexts);
  });

  it('uses a known fixed range without re-learning', () => {
    const detector = new ContextOseDetector({ minValue: 0, maxValue: 100 });
    const out = Array.from({ length: 100 }, (_, i) => detector.update(50 + 40 * Math.sin(i / 3)));
    expect(out[99]?.expectedLow).toBeGreaterThanOrEqual(0);
    expect(out[99]?.expectedHigh).toBeLessThanOrEqual(100);
    expect(detector.snapshot().min).toBe(0);
  });
});
