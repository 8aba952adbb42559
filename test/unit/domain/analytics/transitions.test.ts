import { describe, expect, it } from 'vitest';
import { TransitionDetector } from '../../../../src/domain/analytics/transitions.js';

/** Deterministic noise in [-0.5, 0.5]. */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
/** 0, 7, 0, 7, … : two levels of a 3-bit range, alternating. */
const alternating = (length: number): number[] => Array.from({ length }, (_, i) => (i % 2 ? 7 : 0));

describe('transition detector', () => {
  it('scores a never-seen step by how well known the level it leaves is, then rests', () => {
    const values = alternating(200);
    values[100] = 3; // 7 → 3: new; level 7 was left 49 times before
    const detector = new TransitionDetector();
    const scores = values.map((v) => detector.update(v)?.score ?? null);
    expect(scores.slice(0, 30).every((s) => s === null)).toBe(true);
    expect(scores.slice(30, 100).every((s) => s === 0)).toBe(true);
    expect(scores[100]).toBe(49 / 50);
    expect(scores.slice(101, 130).every((s) => s === 0)).toBe(true); // rest after an alarm
    expect(Math.max(...(scores.slice(130) as number[]))).toBe(0); // 3 → 7 and 7 → 0 are known now
  });

  it('says which range it expected: the levels reached from the previous one before', () => {
    const detector = new TransitionDetector();
    let last = null;
    for (const v of alternating(100)) last = detector.update(v);
    expect(last).toEqual({ score: 0, detector: 'transition', expectedLow: 7, expectedHigh: 7 });
  });

  it('re-learns on a new extreme and flags it, using only the past', () => {
    const values = Array.from(
      { length: 600 },
      (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 24) + noise(i),
    );
    values[500] = 60;
    const other = [...values.slice(0, 500), ...values.slice(500).map((v) => -v)];
    const a = new TransitionDetector();
    const b = new TransitionDetector();
    const sa = values.map((v) => a.update(v)?.score ?? null);
    const sb = other.map((v) => b.update(v)?.score ?? null);
    expect(sb.slice(0, 500)).toEqual(sa.slice(0, 500));
    expect(sa[500]).toBeGreaterThan(0.95);
  });

  it('continues identically after a snapshot through JSON, across a re-learning', () => {
    const values = Array.from(
      { length: 3000 },
      (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 24) + noise(i),
    );
    values[2600] = 60;
    const a = new TransitionDetector();
    for (const v of values.slice(0, 2200)) a.update(v);
    const b = new TransitionDetector();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = values.slice(2200);
    expect(rest.map((v) => b.update(v))).toEqual(rest.map((v) => a.update(v)));
  });
});
