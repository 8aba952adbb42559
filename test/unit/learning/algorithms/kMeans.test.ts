import { describe, expect, it } from 'vitest';
import { fitModel, loadModel } from '../../../../src/learning/registry.js';
import { blobs, frozen } from './data.js';

const spec = { algorithm: 'kMeans', task: 'clustering' } as const;
const centres = [
  [0, 0],
  [10, 0],
  [5, 8],
];
const points = blobs(centres, 20, 0.5, 21);
const data = frozen({ features: points.features, target: [] });

describe('kMeans', () => {
  it('finds well-separated clusters: one cluster per blob, centres near the blob means', () => {
    const model = fitModel(data, { ...spec, seed: 1, params: { k: 3 } });
    expect(model.implementation).toBe('mljs');
    const clusters = model.predict(data.features);
    // Rows come blob by blob in turn (0, 1, 2, 0, 1, 2 …): each blob maps to a single, distinct cluster.
    const byBlob = [0, 1, 2].map((b) => new Set(clusters.filter((_, i) => i % 3 === b)));
    for (const set of byBlob) expect(set.size).toBe(1);
    expect(new Set(byBlob.map((s) => [...s][0])).size).toBe(3);
    const fitted = (model.serialize().state as { centres: number[][] }).centres;
    for (const centre of centres) {
      const nearest = Math.min(...fitted.map((c) => Math.hypot(c[0]! - centre[0]!, c[1]! - centre[1]!)));
      expect(nearest).toBeLessThan(0.5);
    }
  });

  it('predicts the nearest centre; predictOne equals predict; loads and predicts the same', () => {
    const model = fitModel(data, { ...spec, params: { k: 3 } });
    const fitted = (model.serialize().state as { centres: number[][] }).centres;
    const nearest = (row: number[]) => {
      const d = fitted.map((c) => (c[0]! - row[0]!) ** 2 + (c[1]! - row[1]!) ** 2);
      return d.indexOf(Math.min(...d));
    };
    expect(model.predictOne([9, 1])).toBe(nearest([9, 1]));
    expect(data.features.map((row) => model.predictOne(row))).toEqual(model.predict(data.features));
    const loaded = loadModel(JSON.parse(JSON.stringify(model.serialize())));
    expect(loaded.predict(data.features)).toEqual(model.predict(data.features));
  });

  it('defaults to scikit-learn’s settings and is reproducible for a seed', () => {
    const many = frozen({ features: blobs([[0], [5]], 10, 1, 22).features, target: [] });
    const train = (seed: number) => fitModel(many, { ...spec, seed }).serialize();
    expect(train(5).params).toEqual({ k: 8, maxIter: 300, nInit: 1, tol: 1e-4, seed: 5 });
    expect(train(5)).toEqual(train(5));
  });

  it('keeps the best of nInit runs', () => {
    const single = fitModel(data, { ...spec, seed: 2, params: { k: 3, nInit: 1 } }).serialize().state as {
      inertia: number;
    };
    const best = fitModel(data, { ...spec, seed: 2, params: { k: 3, nInit: 4 } }).serialize().state as {
      inertia: number;
    };
    expect(best.inertia).toBeLessThanOrEqual(single.inertia + 1e-9);
  });

  it('names the invalid parameter', () => {
    expect(() => fitModel(data, { ...spec, params: { k: 0 } })).toThrow(/params\.k/);
    expect(() => fitModel(data, { ...spec, params: { k: 61 } })).toThrow(/params\.k.*at most 60/);
  });
});
