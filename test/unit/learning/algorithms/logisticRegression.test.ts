import { describe, expect, it } from 'vitest';
import type { FittedModel, TrainingData } from '../../../../src/learning/algorithm.js';
import { fitModel, loadModel } from '../../../../src/learning/registry.js';
import { accuracy, blobs, frozen, sum } from './data.js';

const spec = { algorithm: 'logisticRegression', task: 'classification' } as const;
const threeBlobs = blobs(
  [
    [0, 0],
    [6, 0],
    [3, 6],
  ],
  30,
  1,
  5,
  [10, 20, 30],
);

/** The gradient of ½‖w‖² + C·Σ log-loss (on the standardised rows) at the fitted binary model. */
function gradientAtOptimum(model: FittedModel, data: TrainingData): number[] {
  const s = model.serialize().state as {
    mean: number[];
    scale: number[];
    coef: number[][];
    intercept: number[];
  };
  const w = s.coef[0]!;
  const grad = [...w, 0];
  data.features.forEach((row, i) => {
    const z = row.map((v, j) => (v - s.mean[j]!) / s.scale[j]!);
    const p = 1 / (1 + Math.exp(-(s.intercept[0]! + sum(z.map((v, j) => v * w[j]!)))));
    const r = p - (data.target[i] === model.classes![1] ? 1 : 0);
    z.forEach((v, j) => {
      grad[j]! += r * v;
    });
    grad[z.length]! += r;
  });
  return grad;
}

describe('logisticRegression', () => {
  it('separates a separable binary set and gives calibrated-looking probabilities', () => {
    const data = frozen(
      blobs(
        [
          [-2, 0],
          [2, 0],
        ],
        25,
        0.5,
        1,
      ),
    );
    const model = fitModel(data, spec);
    expect(model.implementation).toBe('newton');
    expect(model.classes).toEqual([0, 1]);
    expect(accuracy(model.predict(data.features), data.target)).toBe(1);
    const [far, near, middle] = model.predictProba!([
      [4, 0],
      [0.5, 0],
      [0, 0],
    ]);
    expect(far![1]).toBeGreaterThan(0.99);
    expect(near![1]).toBeGreaterThan(0.5);
    expect(near![1]).toBeLessThan(far![1]!);
    expect(Math.abs(middle![1]! - 0.5)).toBeLessThan(0.15);
  });

  it('reaches the penalised optimum (the gradient of scikit-learn’s objective vanishes there)', () => {
    const data = blobs(
      [
        [0, 0],
        [1, 1],
      ],
      40,
      1,
      2,
    );
    const loose = gradientAtOptimum(fitModel(data, spec), data);
    for (const g of loose) expect(Math.abs(g) / data.target.length).toBeLessThan(1e-4);
    const tight = gradientAtOptimum(fitModel(data, { ...spec, params: { tol: 1e-10 } }), data);
    for (const g of tight) expect(Math.abs(g) / data.target.length).toBeLessThan(1e-10);
    // With a smaller C the weights shrink.
    const weights = (C: number) =>
      (fitModel(data, { ...spec, params: { C } }).serialize().state as { coef: number[][] }).coef[0]!;
    expect(Math.hypot(...weights(0.01))).toBeLessThan(Math.hypot(...weights(1)));
  });

  it('one-vs-rest on 3 classes on request: one model per class, probabilities normalised, labels kept', () => {
    const model = fitModel(threeBlobs, { ...spec, params: { multiClass: 'ovr' } });
    const state = model.serialize().state as { coef: number[][]; multiClass: string };
    expect(state.coef).toHaveLength(3);
    expect(state.multiClass).toBe('ovr');
    expect(model.classes).toEqual([10, 20, 30]);
    expect(accuracy(model.predict(threeBlobs.features), threeBlobs.target)).toBeGreaterThan(0.95);
    for (const row of model.predictProba!(threeBlobs.features)) expect(sum(row)).toBeCloseTo(1, 12);
    expect(model.predictOne([6, 0])).toBe(20);
  });

  it('multinomial by default with 3 classes, as scikit-learn', () => {
    const model = fitModel(threeBlobs, spec);
    expect((model.serialize().state as { multiClass: string }).multiClass).toBe('multinomial');
    expect(accuracy(model.predict(threeBlobs.features), threeBlobs.target)).toBeGreaterThan(0.95);
    for (const row of model.predictProba!(threeBlobs.features.slice(0, 5)))
      expect(sum(row)).toBeCloseTo(1, 12);
  });

  it('mljs: the wrapped ml-logistic-regression also separates the classes', () => {
    const data = blobs(
      [
        [-2, 0],
        [2, 0],
      ],
      20,
      0.5,
      3,
    );
    const binary = fitModel(data, { ...spec, implementation: 'mljs', params: { numSteps: 300 } });
    expect(binary.implementation).toBe('mljs');
    expect(accuracy(binary.predict(data.features), data.target)).toBe(1);
    const multi = fitModel(threeBlobs, { ...spec, implementation: 'mljs', params: { numSteps: 300 } });
    expect(accuracy(multi.predict(threeBlobs.features), threeBlobs.target)).toBeGreaterThan(0.9);
    const loaded = loadModel(JSON.parse(JSON.stringify(multi.serialize())));
    expect(loaded.predictProba!(threeBlobs.features)).toEqual(multi.predictProba!(threeBlobs.features));
  });

  it('serialises, loads and predicts the same; predictOne equals predict; importances sum to 1', () => {
    const model = fitModel(threeBlobs, spec);
    const loaded = loadModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(loaded.predict(threeBlobs.features)).toEqual(model.predict(threeBlobs.features));
    expect(loaded.predictProba!(threeBlobs.features)).toEqual(model.predictProba!(threeBlobs.features));
    expect(threeBlobs.features.map((row) => model.predictOne(row))).toEqual(
      model.predict(threeBlobs.features),
    );
    expect(sum(model.featureImportance!())).toBeCloseTo(1, 12);
  });

  it('names the invalid parameter', () => {
    expect(() => fitModel(threeBlobs, { ...spec, params: { C: 0 } })).toThrow(/params\.C/);
    expect(() => fitModel(threeBlobs, { ...spec, params: { multiClass: 'auto' } })).toThrow(
      /params\.multiClass/,
    );
    expect(() => fitModel(threeBlobs, { ...spec, implementation: 'mljs', params: { C: 1 } })).toThrow(
      /params\.C \(unknown parameter\)/,
    );
  });
});
