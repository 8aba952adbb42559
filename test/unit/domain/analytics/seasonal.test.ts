import { describe, expect, it } from 'vitest';
import { zScoreDetector } from '../../../../src/domain/analytics/detectors.js';
import { SeasonalDetector } from '../../../../src/domain/analytics/seasonal.js';

/** Deterministic noise in [-0.5, 0.5]. */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
/** A period of 50 samples between 90 and 110, with noise. */
const seasonal = (length: number) =>
  Array.from({ length }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 50) + noise(i));
const options = { history: 512, firstEstimate: 512, maxPeriod: 170, window: 200, warmup: 30 };

describe('seasonal detector', () => {
  it('finds the period and flags a value normal for the series but not for its phase, which a z-score misses', () => {
    const values = seasonal(1600);
    const trough = 1238; // the lowest point of a cycle (≈ 89.6)
    values[trough] = 110; // a peak's value at a trough's time
    const detector = new SeasonalDetector(options);
    const zscore = zScoreDetector(288);
    const scores = values.map((v) => detector.update(v)?.score ?? null);
    const plain = values.map((v) => zscore.update(v)?.score ?? 0);

    expect(detector.currentPeriod).toBe(50);
    expect(scores[trough]).toBe(1);
    expect(plain[trough]).toBeLessThan(0.06);
    // Silent until the period is known (512 samples), three cycles are kept and the residuals warm up.
    expect(scores.findIndex((s) => s !== null)).toBe(542);
    // Nothing else comes near an alarm, not even a period later (the median of three cycles).
    const others = scores.filter((s, i) => s !== null && i !== trough) as number[];
    expect(Math.max(...others)).toBeLessThan(0.25);
    expect(scores[trough + 50]).toBeLessThan(0.01);
  });

  it('stays silent on a series without seasonality', () => {
    const detector = new SeasonalDetector(options);
    const scores = Array.from({ length: 1200 }, (_, i) => detector.update(50 + noise(i)));
    expect(detector.currentPeriod).toBe(0);
    expect(scores.every((s) => s === null)).toBe(true);
  });

  for (const at of [300, 800]) {
    it(`continues identically after a snapshot through JSON (taken at ${at}, around the first estimate)`, () => {
      const values = seasonal(1500);
      values[1100] = 130;
      const a = new SeasonalDetector(options);
      for (const v of values.slice(0, at)) a.update(v);
      const b = new SeasonalDetector(options);
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      const rest = values.slice(at);
      expect(rest.map((v) => b.update(v))).toEqual(rest.map((v) => a.update(v)));
      expect(b.currentPeriod).toBe(50);
    });
  }
});
