import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../src/domain/random.js';
import { type EvaluationSpec, evaluate } from '../../../../src/learning/evaluation/evaluate.js';
import { classificationMetrics } from '../../../../src/learning/evaluation/metrics.js';
import { holdout } from '../../../../src/learning/evaluation/split.js';
import { fitFeatures, transform } from '../../../../src/learning/features/pipeline.js';
import { FeaturePipelineSpec } from '../../../../src/learning/features/pipeline-spec.js';
import { fitModel } from '../../../../src/learning/registry.js';

/** Two noisy classes apart on the first two features; the third is noise on another scale. */
function blobs(n: number, seed: number) {
  const random = createRandom(seed);
  const features: number[][] = [];
  const target: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 3 === 0 ? 1 : 0;
    features.push([y * 1.5 + random.next() * 2, y - random.next() * 1.2, 1000 * random.next()]);
    target.push(y);
  }
  return { features, target, featureNames: ['u', 'v', 'w'] };
}

const withoutTimes = (r: ReturnType<typeof evaluate>) => ({
  ...r,
  trainMs: 0,
  folds: r.folds.map((f) => ({ ...f, trainMs: 0 })),
});

describe('evaluation on rows the model did not train on', () => {
  const data = blobs(150, 11);
  const features = FeaturePipelineSpec.parse({
    scale: 'standard',
    select: [{ kind: 'correlation', topK: 2 }],
  });
  const spec = { algorithm: 'logisticRegression', task: 'classification', seed: 5 } as const;

  it('holdout: the pipeline is fitted on the training rows only — as computed by hand from the split', () => {
    const evaluation: EvaluationSpec = { method: 'holdout', folds: 5, testFraction: 0.3, seed: 9 };
    const report = evaluate(data, spec, features, evaluation);
    const split = holdout(150, 0.3, 9, data.target);
    const pick = <T>(xs: T[], idx: number[]) => idx.map((i) => xs[i]!);
    const train = {
      features: pick(data.features, split.train),
      target: pick(data.target, split.train),
      featureNames: data.featureNames,
    };
    const fitted = fitFeatures(train, features, { task: 'classification', seed: 5 });
    const model = fitModel({ features: transform(fitted, train.features), target: train.target }, spec);
    const x = transform(fitted, pick(data.features, split.test));
    const expected = classificationMetrics(
      pick(data.target, split.test),
      model.predict(x),
      model.predictProba!(x),
      model.classes,
    );
    expect(report.folds).toHaveLength(1);
    expect(report.folds[0]).toMatchObject({
      trainRows: 105,
      testRows: 45,
      metrics: expected.metrics,
      features: ['u', 'v'],
    });
    expect(report.mean).toEqual(expected.metrics);
    expect(report.confusion).toEqual(expected.confusion);
    expect(report.folds[0]!.metrics.accuracy).toBeGreaterThan(0.8);
  });

  it('k-fold (stratified): every row tested once, the same seed gives the same report', () => {
    const evaluation: EvaluationSpec = { method: 'kfold', folds: 5, testFraction: 0.2, seed: 1 };
    const report = evaluate(data, spec, features, evaluation);
    expect(report.folds.map((f) => f.testRows)).toEqual([30, 30, 30, 30, 30]);
    const counts = report.confusion!.counts;
    expect(counts.flat().reduce((a, v) => a + v, 0)).toBe(150);
    expect(counts[1]!.reduce((a, v) => a + v, 0)).toBe(50);
    expect(report.mean.rocAuc).toBeGreaterThan(0.85);
    expect(withoutTimes(evaluate(data, spec, features, evaluation))).toEqual(withoutTimes(report));
  });

  it('regression: R², RMSE and MAE; importance by feature name', () => {
    const random = createRandom(2);
    const rows = Array.from({ length: 80 }, () => [random.next() * 10, random.next()]);
    const report = evaluate(
      { features: rows, target: rows.map(([x]) => 2 * x! + 1), featureNames: ['x', 'noise'] },
      { algorithm: 'randomForest', task: 'regression', seed: 1, params: { nEstimators: 20 } },
      FeaturePipelineSpec.parse({}),
      { method: 'kfold', folds: 4, testFraction: 0.2, seed: 3 },
    );
    expect(Object.keys(report.mean)).toEqual(['r2', 'rmse', 'mae']);
    expect(report.mean.r2).toBeGreaterThan(0.9);
    expect(report.confusion).toBeNull();
    expect(report.featureImportance![0]!.name).toBe('x');
  });

  it('clustering: judged on held-out rows by inertia and silhouette, no target needed', () => {
    const random = createRandom(3);
    const rows: number[][] = [];
    for (let i = 0; i < 200; i++) {
      const centre = i % 2 === 0 ? 0 : 10;
      rows.push([centre + random.next(), centre + random.next()]);
    }
    const report = evaluate(
      { features: rows, target: [] },
      { algorithm: 'kMeans', task: 'clustering', params: { k: 2 }, seed: 1 },
      FeaturePipelineSpec.parse({}),
      { method: 'kfold', folds: 4, testFraction: 0.2, seed: 0 },
    );
    expect(report.task).toBe('clustering');
    expect(report.mean.clusters).toBe(2);
    // Points within a unit square of their centre: the mean squared distance to it is 2 × 1/12.
    expect(report.mean.inertia!).toBeCloseTo(2 / 12, 1);
    expect(report.mean.silhouette!).toBeGreaterThan(0.9);
  });

  it('refuses a stratified regression and a bad number of folds, naming the field', () => {
    const e: EvaluationSpec = { method: 'kfold', folds: 3, testFraction: 0.2, seed: 0 };
    expect(() =>
      evaluate(data, { algorithm: 'linearRegression', task: 'regression' }, features, {
        ...e,
        stratify: true,
      }),
    ).toThrow(/evaluation\.stratify/);
    expect(() => evaluate(data, spec, features, { ...e, folds: 500 })).toThrow(/^evaluation\.folds/);
  });
});
