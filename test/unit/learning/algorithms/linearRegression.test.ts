import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/domain/errors.js';
import { fitModel, loadModel } from '../../../../src/learning/registry.js';
import { frozen, regression, sum } from './data.js';

const spec = { algorithm: 'linearRegression', task: 'regression' } as const;

describe('linearRegression', () => {
  it('recovers a known linear function exactly (ordinary least squares by default)', () => {
    const data = frozen(regression(50, 3, ([a, b, c]) => 3 + 2 * a! - b! + 0.5 * c!, 1));
    const model = fitModel(data, spec);
    expect(model.implementation).toBe('mljs');
    const state = model.serialize().state as { coefficients: number[]; intercept: number };
    expect(state.intercept).toBeCloseTo(3, 9);
    for (const [j, c] of state.coefficients.entries()) expect(c).toBeCloseTo([2, -1, 0.5][j]!, 9);
    expect(model.predictOne([1, 1, 1])).toBeCloseTo(4.5, 9);
    expect(model.serialize().params).toEqual({ ridgeAlpha: 0, fitIntercept: true });
  });

  it('ridge: shrinks the slope as the closed form says, and leaves the intercept unpenalised', () => {
    // One feature x = [−1, 0, 1], y = 10 + 2x: centred Sxx = 2, Sxy = 4, so w = 4 / (2 + α), b = 10.
    const data = { features: [[-1], [0], [1]], target: [8, 10, 12] };
    const model = fitModel(data, { ...spec, params: { ridgeAlpha: 2 } });
    const state = model.serialize().state as { coefficients: number[]; intercept: number };
    expect(state.coefficients[0]).toBeCloseTo(1, 12);
    expect(state.intercept).toBeCloseTo(10, 12);
  });

  it('ridge without an intercept solves (XᵀX + αI)w = Xᵀy', () => {
    const data = { features: [[1], [2]], target: [2, 4] };
    // XᵀX = 5, Xᵀy = 10: w = 10 / (5 + 5) = 1.
    const model = fitModel(data, { ...spec, params: { ridgeAlpha: 5, fitIntercept: false } });
    expect(model.predictOne([3])).toBeCloseTo(3, 12);
  });

  it('serialises, loads and predicts the same; predictOne equals predict', () => {
    const data = regression(40, 4, (x) => sum(x.map((v, j) => v * (j + 1))), 2, 0.1);
    const model = fitModel(data, spec);
    const loaded = loadModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(loaded.predict(data.features)).toEqual(model.predict(data.features));
    expect(data.features.map((row) => model.predictOne(row))).toEqual(model.predict(data.features));
  });

  it('reports |standardised coefficients| as importances summing to 1', () => {
    const data = regression(60, 3, ([a, b]) => 4 * a! + b!, 3);
    const importance = fitModel(data, spec).featureImportance!();
    expect(sum(importance)).toBeCloseTo(1, 12);
    expect(importance[0]).toBeGreaterThan(importance[1]!);
    expect(importance[2]).toBeLessThan(1e-9);
  });

  it('names the invalid parameter', () => {
    const data = regression(10, 2, ([a]) => a!, 4);
    expect(() => fitModel(data, { ...spec, params: { ridgeAlpha: -1 } })).toThrow(/params\.ridgeAlpha/);
    try {
      fitModel(data, { ...spec, params: { alpha: 1 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        { path: 'params.alpha', message: 'unknown parameter' },
      ]);
    }
  });
});
