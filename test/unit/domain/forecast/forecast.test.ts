import { describe, expect, it } from 'vitest';
import { holtWintersBaseline, seasonalNaive } from '../../../../src/domain/forecast/baselines.js';
import { evaluateHoldout } from '../../../../src/domain/forecast/evaluate.js';
import { cvError, cvPlan, forecast } from '../../../../src/domain/forecast/forecast.js';
import { coverage, mase } from '../../../../src/domain/forecast/metrics.js';
import { detectPeriod } from '../../../../src/domain/forecast/period.js';
import { seeded } from '../../../support/seeded.js';

/** Sine of period `period` + linear trend + Gaussian noise (Box–Muller), seeded. */
function synthetic(n: number, period: number, seed: number, noise = 0.3, slope = 0.002): number[] {
  const random = seeded(seed);
  return Array.from({ length: n }, (_, t) => {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return 10 + slope * t + 2 * Math.sin((2 * Math.PI * t) / period) + noise * gauss;
  });
}

describe('forecast (default method)', () => {
  it('forecasts a seasonal series better than seasonal naive, with intervals that cover', () => {
    const period = 24;
    const h = 24;
    let covered80 = 0;
    let covered95 = 0;
    let runs = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const values = synthetic(24 * 40, period, seed);
      const { methods } = evaluateHoldout(values, h);
      const main = methods[0]!;
      expect(main.forecast.settings.period).toBe(period);
      expect(main.forecast.settings.method).toBe('holtWinters');
      expect(main.score.mase).toBeLessThan(1);
      covered80 += main.score.coverage80;
      covered95 += main.score.coverage95;
      runs++;
    }
    expect(covered80 / runs).toBeGreaterThan(0.65);
    expect(covered80 / runs).toBeLessThan(0.95);
    expect(covered95 / runs).toBeGreaterThan(0.85);
  });

  it('finds the season from the values when none is given, and uses a given one', () => {
    const values = synthetic(600, 30, 9);
    expect(detectPeriod(values)).toBe(30);
    expect(forecast(values, { horizon: 10 }).settings.params.seasonConsidered).toBe(30);
    expect(forecast(values, { horizon: 10, period: 30 }).settings.params.seasonConsidered).toBe(30);
  });

  it('forecasts a constant series as that constant with zero-width intervals', () => {
    const f = forecast(Array(200).fill(7), { horizon: 5 });
    for (const band of [f.mean, f.lower80, f.upper80, f.lower95, f.upper95])
      expect(band).toEqual([7, 7, 7, 7, 7]);
    expect(f.settings.cvError).toBe(0);
  });

  it('forecasts a short series without a season (fewer than two seasons)', () => {
    const values = [3, 4, 6, 5, 7, 8, 7, 9, 10, 9, 11, 12];
    const f = forecast(values, { horizon: 4, period: 10 });
    expect(f.settings.period).toBeNull();
    expect(f.settings.params.seasonConsidered).toBeNull();
    expect(f.mean).toHaveLength(4);
    for (let j = 0; j < 4; j++) {
      expect(Number.isFinite(f.mean[j]!)).toBe(true);
      expect(f.lower95[j]!).toBeLessThanOrEqual(f.lower80[j]!);
      expect(f.lower80[j]!).toBeLessThanOrEqual(f.upper80[j]!);
      expect(f.upper80[j]!).toBeLessThanOrEqual(f.upper95[j]!);
    }
    // Three points: too short to cross-validate; a fixed damped Holt, analytic intervals.
    const tiny = forecast([1, 2, 3], { horizon: 2 });
    expect(tiny.settings.cvError).toBeNull();
    expect(tiny.mean.every(Number.isFinite)).toBe(true);
  });

  it('rejects fewer than 3 values, non-finite values and a bad horizon', () => {
    expect(() => forecast([1, 2], { horizon: 1 })).toThrow(RangeError);
    expect(() => forecast([1, Number.NaN, 3], { horizon: 1 })).toThrow(RangeError);
    expect(() => forecast([1, Number.POSITIVE_INFINITY, 3], { horizon: 1 })).toThrow(RangeError);
    expect(() => forecast([1, 2, 3], { horizon: 0 })).toThrow(RangeError);
    expect(() => forecast([1, 2, 3], { horizon: 1.5 })).toThrow(RangeError);
    expect(() => forecast([1, 2, 3], { horizon: 1, period: -2 })).toThrow(RangeError);
  });

  it('cross-validates only on the past: origins a horizon before the end, scores blind to later values', () => {
    const values = synthetic(500, 20, 3);
    const plan = cvPlan(values, 20, 20)!;
    expect(plan.origins.length).toBeGreaterThan(1);
    for (const o of plan.origins) expect(o + plan.horizon).toBeLessThanOrEqual(values.length);
    // Values after the last window changed: every candidate's CV error on the prefix is unchanged.
    const end = plan.origins.at(-1)! + plan.horizon;
    const poisoned = [...values.slice(0, end), ...Array(100).fill(1e9)];
    const spec = {
      kind: 'smoothing',
      period: 20,
      alpha: 0.2,
      beta: 0.01,
      gamma: 0.1,
      phi: 0.98,
      trend: true,
    } as const;
    expect(cvError(poisoned, spec, plan)).toBe(cvError(values.slice(0, end), spec, plan));
    // The held-out evaluation: wild held-out values change the scores, never the forecasts.
    const h = 20;
    const wild = [...values.slice(0, -h), ...values.slice(-h).map((v, i) => v * 1000 + i)];
    const a = evaluateHoldout(values, h);
    const b = evaluateHoldout(wild, h);
    for (const [i, m] of a.methods.entries()) {
      expect(b.methods[i]!.forecast).toEqual(m.forecast);
      expect(b.methods[i]!.score.mase).not.toBe(m.score.mase);
    }
  });

  it('forecasts 4,000 points with cross-validation well under a second', () => {
    const values = synthetic(4032, 288, 11);
    const started = performance.now();
    const f = forecast(values, { horizon: 288 });
    const ms = performance.now() - started;
    expect(f.mean).toHaveLength(288);
    // Found from the values (the biased autocorrelation's broad peak may sit a point or two early).
    expect(Math.abs((f.settings.params.seasonConsidered as number) - 288)).toBeLessThanOrEqual(6);
    expect(ms).toBeLessThan(800);
    expect(forecast(values, { horizon: 288, period: 288 }).settings.period).toBe(288);
  });
});

describe('baselines', () => {
  it('Holt-Winters (SSE-fitted) and seasonal naive forecast a seasonal series', () => {
    const values = synthetic(24 * 30, 24, 7);
    const train = values.slice(0, -24);
    const actual = values.slice(-24);
    const hw = holtWintersBaseline(train, { horizon: 24, period: 24 });
    const naive = seasonalNaive(train, { horizon: 24, period: 24 });
    expect(hw.settings.method).toBe('holtWinters');
    expect(hw.settings.params.fit).toBe('sse');
    expect(naive.settings.method).toBe('seasonalNaive');
    // Seasonal naive repeats the last season.
    expect(naive.mean).toEqual(train.slice(-24));
    expect(mase(actual, hw.mean, train, 24)).toBeLessThan(1);
    expect(coverage(actual, hw.lower95, hw.upper95)).toBeGreaterThan(0.8);
    // Seasonal naive's interval widens with the seasons ahead: one season here, so constant width.
    expect(naive.upper80[0]! - naive.lower80[0]!).toBeCloseTo(naive.upper80[23]! - naive.lower80[23]!, 9);
  });
});
