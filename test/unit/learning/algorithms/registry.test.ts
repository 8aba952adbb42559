import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/domain/errors.js';
import { ALGORITHM_NAMES, type ModelSpec, type TrainingData } from '../../../../src/learning/algorithm.js';
import { ALGORITHMS, fitModel, loadModel } from '../../../../src/learning/registry.js';
import { blobs, frozen } from './data.js';

const classification = { algorithm: 'decisionTree', task: 'classification' } as const;
const good = frozen(
  blobs(
    [
      [0, 0],
      [3, 3],
    ],
    5,
    0.5,
    31,
  ),
);

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}
const pathOf = (run: () => unknown) => issuesOf(run)[0]?.path;

describe('the algorithm registry', () => {
  it('lists every algorithm once, each with its default among its implementations', () => {
    expect(ALGORITHMS.map((a) => a.name)).toEqual([...ALGORITHM_NAMES]);
    for (const algorithm of ALGORITHMS) {
      const names = algorithm.implementations.map((i) => i.name);
      expect(names).toContain(algorithm.defaultImplementation);
      expect(new Set(names).size).toBe(names.length);
      for (const i of algorithm.implementations)
        for (const t of i.tasks) expect(algorithm.tasks).toContain(t);
    }
  });

  it('fits every default implementation on frozen data (pure: the input is not touched)', () => {
    const supervised = { features: good.features, target: good.target };
    for (const algorithm of ALGORITHMS) {
      for (const task of algorithm.tasks) {
        const data: TrainingData =
          task === 'regression'
            ? frozen({ features: good.features, target: good.features.map((r) => r[0]! + r[1]!) })
            : task === 'clustering'
              ? frozen({ features: good.features, target: [] })
              : frozen(supervised);
        const params =
          algorithm.name === 'kMeans'
            ? { k: 2 }
            : algorithm.name === 'randomForest'
              ? { nEstimators: 3 }
              : {};
        const model = fitModel(data, { algorithm: algorithm.name, task, params });
        expect(model.implementation).toBe(algorithm.defaultImplementation);
        expect(model.predict(data.features)).toHaveLength(data.features.length);
      }
    }
  });

  it('refuses an unknown algorithm, task or implementation, and a bad seed', () => {
    const spec = (s: Partial<ModelSpec>) => ({ ...classification, ...s }) as ModelSpec;
    expect(pathOf(() => fitModel(good, spec({ algorithm: 'svm' as never })))).toBe('algorithm');
    expect(pathOf(() => fitModel(good, spec({ algorithm: 'linearRegression' })))).toBe('task');
    expect(pathOf(() => fitModel(good, spec({ implementation: 'xgboost' })))).toBe('implementation');
    expect(pathOf(() => fitModel(good, spec({ seed: 1.5 })))).toBe('seed');
    expect(pathOf(() => fitModel(good, spec({ params: [] as never })))).toBe('params');
  });

  it('checks the data: rectangular, finite, enough rows, a target per row, two classes', () => {
    const train = (data: TrainingData) => () => fitModel(data, classification);
    expect(pathOf(train({ features: [], target: [] }))).toBe('data.features');
    expect(pathOf(train({ features: [[1, 2], [3]], target: [0, 1] }))).toBe('data.features[1]');
    expect(
      pathOf(
        train({
          features: [
            [1, 2],
            [3, Number.NaN],
          ],
          target: [0, 1],
        }),
      ),
    ).toBe('data.features[1][1]');
    expect(
      pathOf(
        train({
          features: [
            [1, 2],
            [3, Number.POSITIVE_INFINITY],
          ],
          target: [0, 1],
        }),
      ),
    ).toBe('data.features[1][1]');
    expect(pathOf(train({ features: [[1]], target: [0] }))).toBe('data.features');
    expect(pathOf(train({ features: [[1], [2]], target: [0] }))).toBe('data.target');
    expect(pathOf(train({ features: [[1], [2]], target: [0, Number.NaN] }))).toBe('data.target[1]');
    expect(issuesOf(train({ features: [[1], [2]], target: [1, 1] }))[0]).toEqual({
      path: 'data.target',
      message: 'classification needs at least 2 classes',
    });
    expect(pathOf(train({ features: [[1], [2]], target: [0, 1], featureNames: ['a', 'b'] }))).toBe(
      'data.featureNames',
    );
  });

  it('validates params per implementation, naming each bad one', () => {
    const issues = issuesOf(() =>
      fitModel(good, { ...classification, params: { maxDepth: -1, colour: 'red' } }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['params.colour', 'params.maxDepth']);
  });

  it('rejects predictions on rows of the wrong width', () => {
    const model = fitModel(good, classification);
    expect(() => model.predictOne([1])).toThrow(ValidationError);
    expect(
      pathOf(() =>
        model.predict([
          [1, 2],
          [1, 2, 3],
        ]),
      ),
    ).toBe('rows[1]');
  });

  it('loads only well-formed serialised models', () => {
    const serialized = fitModel(good, classification).serialize();
    expect(loadModel(serialized).predict(good.features)).toEqual(
      fitModel(good, classification).predict(good.features),
    );
    expect(pathOf(() => loadModel({ ...serialized, format: 2 as 1 }))).toBe('model.format');
    expect(pathOf(() => loadModel({ ...serialized, algorithm: 'svm' as never }))).toBe('model.algorithm');
    expect(pathOf(() => loadModel({ ...serialized, implementation: 'nope' }))).toBe('implementation');
    expect(pathOf(() => loadModel({ ...serialized, task: 'clustering' }))).toBe('task');
    expect(pathOf(() => loadModel({ ...serialized, state: { trees: 'x' } }))?.startsWith('state')).toBe(true);
    expect(pathOf(() => loadModel({ ...serialized, params: { maxDepth: 'deep' } }))).toBe('params.maxDepth');
  });
});
