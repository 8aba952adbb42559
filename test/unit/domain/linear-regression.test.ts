import { describe, expect, it } from 'vitest';
import { fitLinearRegression } from '../../../src/domain/model/linear-regression.js';

describe('fitLinearRegression', () => {
  it('recovers exact weights from noiseless data', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [i, (i * 7) % 5]);
    const target = rows.map(([a, b]) => 3 * a! - 2 * b! + 10);
    const result = fitLinearRegression({ rows, target }, 1);
    expect(result.type).toBe('trainingSucceeded');
    if (result.type !== 'trainingSucceeded') return;
    expect(result.artifact.weights[0]).toBeCloseTo(3, 9);
    expect(result.artifact.weights[1]).toBeCloseTo(-2, 9);
    expect(result.artifact.intercept).toBeCloseTo(10, 9);
    expect(result.metrics.rmse).toBeCloseTo(0, 9);
    expect(result.metrics.r2).toBeCloseTo(1, 9);
    expect(result.metrics.samples).toBe(20);
  });

  it('fails with a reason when there are not more rows than features', () => {
    const result = fitLinearRegression(
      {
        rows: [
          [1, 2],
          [3, 4],
        ],
        target: [1, 2],
      },
      1,
    );
    expect(result).toEqual({ type: 'trainingFailed', reason: expect.stringContaining('more rows') });
  });
});
