import { describe, expect, it } from 'vitest';
import { coverage, mae, mase, naiveScale, smape } from '../../../../src/domain/forecast/metrics.js';

describe('forecast metrics', () => {
  it('scales MASE by the in-sample seasonal naive one-step error', () => {
    // Lag 1: |2−1|, |4−2|, |3−4| → mean 4/3.
    expect(naiveScale([1, 2, 4, 3])).toBeCloseTo(4 / 3, 12);
    // Lag 2: |4−1|, |3−2| → mean 2.
    expect(naiveScale([1, 2, 4, 3], 2)).toBe(2);
    expect(mae([1, 2, 3], [2, 2, 5])).toBe(1);
    // MAE 1 over scale 2.
    expect(mase([1, 2, 3], [2, 2, 5], [1, 2, 4, 3], 2)).toBe(0.5);
    expect(mase([5, 5], [5, 5], [5, 5, 5])).toBe(0);
    expect(mase([5, 6], [5, 5], [5, 5, 5])).toBe(Number.POSITIVE_INFINITY);
  });

  it('computes sMAPE in percent, a point where both are 0 counting as 0', () => {
    // 2·|100−110|/210 = 0.0952…, 2·|0−0|: 0, 2·|50−0|/50 = 2 → mean · 100.
    expect(smape([100, 0, 50], [110, 0, 0])).toBeCloseTo((100 * (20 / 210 + 0 + 2)) / 3, 10);
  });

  it('counts the share of actual values inside their intervals, bounds included', () => {
    expect(coverage([1, 2, 3, 4], [0, 2, 4, 0], [1, 3, 5, 3])).toBe(0.5);
  });
});
