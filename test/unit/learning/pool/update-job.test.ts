import { describe, expect, it } from 'vitest';
import type { TrainingData } from '../../../../src/learning/algorithm.js';
import { transform } from '../../../../src/learning/features/pipeline.js';
import { FeaturePipelineSpec } from '../../../../src/learning/features/pipeline-spec.js';
import { type FitResult, type JobResult, runJob } from '../../../../src/learning/pool/jobs.js';
import { packData } from '../../../../src/learning/pool/wire.js';
import { loadModel, updateModel } from '../../../../src/learning/registry.js';
import { regression } from '../algorithms/data.js';

const named = (data: TrainingData): TrainingData => ({ ...data, featureNames: ['a', 'b'] });
const spec = { algorithm: 'linearRegression', task: 'regression' } as const;

function fitJob(data: TrainingData, features: FeaturePipelineSpec): FitResult {
  return runJob({ kind: 'fit', data: packData(data), spec, features }).result as JobResult<'fit'>;
}

describe("the pool's update job", () => {
  const train = named(regression(100, 2, (x) => 100 * x[0]! - 3 * x[1]!, 1, 0.1));
  const batch = named(regression(200, 2, (x) => 100 * x[0]! + 5 * x[1]! + 2, 2, 0.1));

  it('moves the model behind its frozen pipeline: the same as updating the transformed rows', () => {
    const fitted = fitJob(train, FeaturePipelineSpec.parse({ scale: 'standard' }));
    const options = { learningRate: 0.3, epochs: 2 };
    const { result } = runJob({
      kind: 'update',
      model: fitted.model,
      features: fitted.features,
      data: packData(batch),
      options,
    });
    const updated = result as JobResult<'update'>;
    expect(updated.features).toEqual(fitted.features);
    expect(updated.trainMs).toBeGreaterThanOrEqual(0);
    const direct = updateModel(
      fitted.model,
      { features: transform(fitted.features, batch.features), target: batch.target },
      options,
    );
    expect(updated.model).toEqual(direct.serialize());
    expect(updated.featureImportance?.map((f) => f.name)).toEqual(['a', 'b']);
    expect(updated.featureImportance?.map((f) => f.importance)).toEqual(direct.featureImportance!());
    // The update learnt: the new relationship's error fell.
    const error = (model: FitResult['model']) => {
      const predicted = loadModel(model).predict(transform(fitted.features, batch.features));
      return Math.sqrt(predicted.reduce((s, v, i) => s + (v - batch.target[i]!) ** 2, 0) / predicted.length);
    };
    expect(error(updated.model)).toBeLessThan(error(fitted.model) / 3);
  });

  it('without a pipeline (null) rows go as they are, answered with the identity pipeline as fit answers it', () => {
    const fitted = fitJob(train, FeaturePipelineSpec.parse({}));
    const done = runJob({
      kind: 'update',
      model: fitted.model,
      features: null,
      data: packData(batch),
      options: {},
    });
    const updated = done.result as JobResult<'update'>;
    expect(done.transfer).toEqual([]);
    expect(updated.features).toEqual(fitted.features);
    expect(updated.model).toEqual(updateModel(fitted.model, batch, {}).serialize());
    // JSON-safe, as it crosses a worker's port and is stored.
    expect(JSON.parse(JSON.stringify(updated))).toEqual(updated);
  });

  it('an implementation that cannot learn incrementally fails the job clearly', () => {
    const tree = runJob({
      kind: 'fit',
      data: packData(named(regression(30, 2, (x) => x[0]!, 3))),
      spec: { algorithm: 'decisionTree', task: 'regression' },
      features: FeaturePipelineSpec.parse({}),
    }).result as FitResult;
    expect(() =>
      runJob({ kind: 'update', model: tree.model, features: null, data: packData(batch), options: {} }),
    ).toThrow(/decisionTree\/\w+ cannot learn incrementally; retrain it instead/);
  });
});
