import { describe, expect, it } from 'vitest';
import { errorName, errorOf } from '../../../../src/domain/coordinator/error.js';

describe("the coordinator's error measure", () => {
  it('is RMSE for regression and 1 − F1 (or 1 − accuracy) for classification; none for clustering', () => {
    expect(errorOf('regression', { rmse: 2.5, r2: 0.3 })).toBe(2.5);
    expect(errorOf('classification', { f1: 0.75, accuracy: 0.9 })).toBe(0.25);
    expect(errorOf('classification', { f1: null, accuracy: 0.8 })).toBeCloseTo(0.2, 12);
    expect(errorOf('classification', {})).toBeNull();
    expect(errorOf('clustering', { silhouette: 0.5 })).toBeNull();
    expect([errorName('regression'), errorName('classification')]).toEqual(['rmse', '1 - f1']);
  });
});
