import { describe, expect, it } from 'vitest';
import type { Detector } from '../../../../src/domain/analytics/detector.js';
import { zToScore } from '../../../../src/domain/analytics/detector.js';
import {
  cusumDetector,
  ewmaDetector,
  madDetector,
  RollingStats,
  zScoreDetector,
} from '../../../../src/domain/analytics/detectors.js';
import { createEnsemble } from '../../../../src/domain/analytics/ensemble.js';
import { transitionDetector } from '../../../../src/domain/analytics/transitions.js';

/** Deterministic noise in [-1, 1]. */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
const run = (detector: Detector, values: number[]) => values.map((v) => detector.update(v)?.score ?? 0);

describe('detectors on planted anomalies', () => {
  const base = Array.from({ length: 600 }, (_, i) => 50 + noise(i) * 2);

  it('keeps rolling mean and deviation exactly over the window', () => {
    const stats = new RollingStats(3);
    for (const v of [1, 2, 3, 4]) stats.push(v);
    expect(stats.mean).toBe(3);
    expect(stats.std).toBeCloseTo(1, 12);
  });

  it('calibrates deviations to graded scores', () => {
    expect(zToScore(0)).toBe(0);
    expect(zToScore(3)).toBeLessThan(zToScore(5));
    expect(zToScore(-5)).toBe(zToScore(5));
    expect(zToScore(100)).toBe(1);
  });

  for (const make of [() => zScoreDetector(), () => madDetector(), () => ewmaDetector()]) {
    it(`${make().name}: a spike scores far above the noise, and nothing scores during warm-up`, () => {
      const values = [...base];
      values[400] = 80;
      const scores = run(make(), values);
      expect(scores.slice(0, 30).every((s) => s === 0)).toBe(true);
      expect(scores[400]).toBeGreaterThan(0.9);
      expect(Math.max(...scores.slice(100, 400))).toBeLessThan(0.5);
    });
  }

  it('cusum: a small persistent shift that no single sample shows is flagged within a few dozen samples', () => {
    const values = base.map((v, i) => (i >= 400 ? v + 2 : v));
    const scores = run(cusumDetector(), values);
    expect(Math.max(...scores.slice(100, 400))).toBeLessThan(0.8); // no change point in the noise
    const first = scores.findIndex((s, i) => i >= 400 && s === 1);
    expect(first).toBeGreaterThan(400);
    expect(first).toBeLessThan(440);
  });

  it('ewma adapts to a new level instead of alarming for ever', () => {
    const values = base.map((v, i) => (i >= 300 ? v + 30 : v));
    const scores = run(ewmaDetector(), values);
    expect(scores[300]).toBeGreaterThan(0.9);
    expect(scores[599]).toBeLessThan(0.2);
  });

  it('ensemble: damping after an alarm, so that one anomaly raises one alarm', () => {
    const values = [...base];
    values[400] = 90;
    values[410] = 90;
    const ensemble = createEnsemble({ alarmLevel: 0.5, quietSamples: 150, quietFactor: 0.3 }, [
      zScoreDetector(6400),
    ]);
    const out = values.map((v) => ensemble.update(v));
    expect(out[400]!.score).toBe(1);
    expect(out[400]!.strongest?.detector).toBe('zscore');
    expect(out[410]!.score).toBeLessThanOrEqual(0.3);
  });

  it('default ensemble: a spike scores near 1, the same spike again soon after scores at most half', () => {
    const values = [...base];
    values[400] = 90;
    values[410] = 90;
    const ensemble = createEnsemble();
    const out = values.map((v) => ensemble.update(v));
    expect(out[400]!.score).toBeGreaterThan(0.99);
    expect(out[400]!.detections.map((d) => d.detector)).toEqual(['transition', 'zscore']);
    expect(out[410]!.score).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out.slice(100, 400).map((d) => d.score))).toBeLessThan(0.5);
  });
});

describe('detectors, after review', () => {
  it('keeps the spread of large steady values (no cancellation in the sums)', () => {
    const detector = zScoreDetector(500);
    const scores = Array.from({ length: 600 }, (_, i) => detector.update(1e9 + noise(i))?.score ?? 0);
    expect(Math.max(...scores.slice(100))).toBeLessThan(0.5);
    const stats = new RollingStats(3);
    for (const v of [1e12 + 1, 1e12 + 2, 1e12 + 3]) stats.push(v);
    expect(stats.mean).toBe(1e12 + 2);
    expect(stats.std).toBeCloseTo(1, 9);
  });
});

describe('ensemble checkpoints', () => {
  const seasonalSeries = (length: number) =>
    Array.from({ length }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 48) + noise(i));

  it('continues identically after a snapshot through JSON (default members)', () => {
    const values = seasonalSeries(3000);
    values[2500] = 150;
    const a = createEnsemble();
    for (const v of values.slice(0, 1500)) a.update(v);
    const b = createEnsemble();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = values.slice(1500);
    const fromB = rest.map((v) => b.update(v));
    expect(fromB).toEqual(rest.map((v) => a.update(v)));
    expect(fromB.some((d) => d.strongest?.detector === 'seasonal')).toBe(true);
  });

  it('restores only the members a checkpoint was taken from: others start fresh', () => {
    const values = seasonalSeries(400);
    const older = createEnsemble(undefined, [zScoreDetector(6400)]);
    for (const v of values) older.update(v);
    const named = JSON.parse(JSON.stringify(older.snapshot()));
    const unnamed = { sinceAlarm: null, members: named.members }; // a checkpoint from before names
    const fromNamed = createEnsemble(undefined, [zScoreDetector(6400), transitionDetector()]);
    fromNamed.restore(named);
    expect(fromNamed.update(values[0]!).detections.map((d) => d.detector)).toEqual(['zscore']);
    const fromUnnamed = createEnsemble();
    fromUnnamed.restore(unnamed);
    expect(fromUnnamed.update(values[0]!).detections).toEqual([]); // all warming up again
  });
});
