import { describe, expect, it } from 'vitest';
import { fitModel, loadModel } from '../../../../src/learning/registry.js';
import { accuracy, blobs, frozen, regression, sum } from './data.js';

const spec = { algorithm: 'randomForest', task: 'classification' } as const;
const data = frozen(
  blobs(
    [
      [0, 0, 0, 0],
      [1.5, 1.5, 0, 0],
      [0, 3, 0, 0],
    ],
    30,
    0.7,
    11,
  ),
);

describe('randomForest', () => {
  it('fits 100 bootstrapped trees with √features per split by default (scikit-learn’s)', () => {
    const model = fitModel(data, { ...spec, seed: 1 });
    expect(model.implementation).toBe('presorted');
    const serialized = model.serialize();
    expect((serialized.state as { trees: unknown[] }).trees).toHaveLength(100);
    expect(serialized.params).toMatchObject({
      nEstimators: 100,
      bootstrap: true,
      maxFeatures: 'sqrt',
      seed: 1,
    });
    expect(accuracy(model.predict(data.features), data.target)).toBeGreaterThan(0.95);
  });

  it('predictProba is the mean of the trees’ probabilities and predict its argmax', () => {
    const model = fitModel(data, { ...spec, params: { nEstimators: 7 } });
    const proba = model.predictProba!(data.features);
    for (const row of proba) expect(sum(row)).toBeCloseTo(1, 12);
    // Seven trees with pure leaves: every probability is a multiple of 1/7.
    for (const v of proba.flat()) expect(Math.abs(v * 7 - Math.round(v * 7))).toBeLessThan(1e-9);
    const argmax = proba.map((row) => model.classes![row.indexOf(Math.max(...row))]);
    expect(model.predict(data.features)).toEqual(argmax);
  });

  it('is reproducible for a seed and differs for another', () => {
    const train = (seed: number) => fitModel(data, { ...spec, seed, params: { nEstimators: 5 } }).serialize();
    expect(train(3)).toEqual(train(3));
    expect(train(3).state).not.toEqual(train(4).state);
  });

  it('without bootstrap and with all features, every tree is the same as the single tree', () => {
    const tree = fitModel(data, { algorithm: 'decisionTree', task: 'classification' });
    const forest = fitModel(data, {
      ...spec,
      params: { nEstimators: 3, bootstrap: false, maxFeatures: null },
    });
    expect(forest.predict(data.features)).toEqual(tree.predict(data.features));
  });

  it('regression: all features per split by default, averages the trees', () => {
    const reg = regression(120, 3, ([a, b]) => 3 * a! + (b! > 0 ? 2 : 0), 12, 0.05);
    const model = fitModel(reg, { ...spec, task: 'regression', params: { nEstimators: 20 } });
    expect(model.serialize().params).toMatchObject({ maxFeatures: null });
    const predicted = model.predict(reg.features);
    const mse = sum(predicted.map((v, i) => (v - reg.target[i]!) ** 2)) / predicted.length;
    expect(mse).toBeLessThan(0.2);
    const importance = model.featureImportance!();
    expect(sum(importance)).toBeCloseTo(1, 12);
    expect(importance[2]).toBeLessThan(importance[0]!);
  });

  it('serialises, loads and predicts the same; predictOne equals predict; importances sum to 1', () => {
    const model = fitModel(data, { ...spec, params: { nEstimators: 10 } });
    const loaded = loadModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(loaded.predict(data.features)).toEqual(model.predict(data.features));
    expect(loaded.predictProba!(data.features)).toEqual(model.predictProba!(data.features));
    expect(data.features.map((row) => model.predictOne(row))).toEqual(model.predict(data.features));
    const importance = model.featureImportance!();
    expect(sum(importance)).toBeCloseTo(1, 12);
    // The last two features are pure noise.
    expect(importance[0]! + importance[1]!).toBeGreaterThan(importance[2]! + importance[3]!);
  });

  it('names the invalid parameter', () => {
    expect(() => fitModel(data, { ...spec, params: { nEstimators: 0 } })).toThrow(/params\.nEstimators/);
    expect(() => fitModel(data, { ...spec, params: { bootstrap: 'yes' } })).toThrow(/params\.bootstrap/);
  });

  it('mljs: ml-random-forest is selectable', () => {
    const small = blobs(
      [
        [0, 0],
        [3, 3],
      ],
      12,
      0.5,
      13,
    );
    const model = fitModel(small, { ...spec, implementation: 'mljs', params: { nEstimators: 5 } });
    expect(model.implementation).toBe('mljs');
    expect(accuracy(model.predict(small.features), small.target)).toBeGreaterThan(0.95);
    for (const row of model.predictProba!(small.features)) expect(sum(row)).toBeCloseTo(1, 12);
    expect(sum(model.featureImportance!())).toBeCloseTo(1, 9);
    const loaded = loadModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(loaded.predict(small.features)).toEqual(model.predict(small.features));
    const reg = regression(40, 2, ([a]) => 2 * a!, 14, 0.1);
    const regModel = fitModel(reg, {
      ...spec,
      task: 'regression',
      implementation: 'mljs',
      params: { nEstimators: 5 },
    });
    expect(regModel.predictOne([0.9, 0])).toBeGreaterThan(regModel.predictOne([-0.9, 0]));
  });
});
