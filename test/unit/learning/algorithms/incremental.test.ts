import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/domain/errors.js';
import { createRandom } from '../../../../src/domain/random.js';
import type { FittedModel, SerializedModel, TrainingData } from '../../../../src/learning/algorithm.js';
import { canUpdate, fitModel, loadModel, updateModel } from '../../../../src/learning/registry.js';
import { blobs, frozen, regression } from './data.js';

const rmse = (model: FittedModel, data: TrainingData) =>
  Math.sqrt(
    model.predict(data.features).reduce((s, v, i) => s + (v - data.target[i]!) ** 2, 0) / data.target.length,
  );

/** Mean negative log-likelihood of the true classes. */
function logLoss(model: FittedModel, data: TrainingData): number {
  const proba = model.predictProba!(data.features);
  const classes = model.classes!;
  return (
    -proba.reduce((s, row, i) => s + Math.log(Math.max(row[classes.indexOf(data.target[i]!)]!, 1e-15)), 0) /
    proba.length
  );
}

const accuracyOf = (model: FittedModel, data: TrainingData) =>
  model.predict(data.features).filter((v, i) => v === data.target[i]).length / data.target.length;

/** Consecutive batches of `size` rows, in order. */
function batches(data: TrainingData, size: number): TrainingData[] {
  const out: TrainingData[] = [];
  for (let i = 0; i < data.features.length; i += size) {
    out.push({ features: data.features.slice(i, i + size), target: data.target.slice(i, i + size) });
  }
  return out;
}

/** Feeds the batches one after the other through JSON, as a pipeline would store the model between them. */
function stream(model: SerializedModel, parts: readonly TrainingData[], options = {}): FittedModel {
  let current = loadModel(model);
  for (const part of parts) {
    current = updateModel(JSON.parse(JSON.stringify(current.serialize())), frozen(part), options);
  }
  return current;
}

/** Rows labelled 1 with probability σ(score(x)), x uniform in [−2, 2]². */
function logistic(rows: number, score: (x: readonly number[]) => number, seed: number): TrainingData {
  const random = createRandom(seed);
  const features = Array.from({ length: rows }, () => [4 * random.next() - 2, 4 * random.next() - 2]);
  const target = features.map((x) => (random.next() < 1 / (1 + Math.exp(-score(x))) ? 1 : 0));
  return { features, target };
}

describe('incremental updates (updateModel)', () => {
  describe('linearRegression: normalised LMS', () => {
    const old = (x: readonly number[]) => 2 * x[0]! - 3 * x[1]! + 1;
    const shifted = (x: readonly number[]) => 2 * x[0]! + x[1]!;

    it('follows a changed relationship: after batches of the new regime the error on fresh rows falls well below the stale model’s', () => {
      const stale = fitModel(regression(200, 2, old, 1, 0.1), {
        algorithm: 'linearRegression',
        task: 'regression',
      });
      const fresh = regression(300, 2, shifted, 3, 0.1);
      const updated = stream(stale.serialize(), batches(regression(600, 2, shifted, 2, 0.1), 50));
      const staleError = rmse(stale, fresh);
      const updatedError = rmse(updated, fresh);
      expect(staleError).toBeGreaterThan(1.5);
      expect(updatedError).toBeLessThan(0.2);
      expect(updatedError).toBeLessThan(staleError / 10);
      const state = updated.serialize().state as {
        coefficients: number[];
        intercept: number;
        importance: number[];
      };
      expect(state.coefficients[0]).toBeCloseTo(2, 1);
      expect(state.coefficients[1]).toBeCloseTo(1, 1);
      expect(state.intercept).toBeCloseTo(0, 1);
      // Importance follows the new coefficients (|coef·sd|, normalised): x₁ now counts twice as much as x₂.
      const importance = updated.featureImportance!();
      expect(importance.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
      expect(importance[0]! / importance[1]!).toBeCloseTo(2, 0);
    });

    it('is stable for any step in (0, 2), even with features of scale 1e4, and refuses a step outside', () => {
      const scales = [1e4, 1];
      const scaled = (data: TrainingData): TrainingData => ({
        features: data.features.map((row) => row.map((v, j) => v * scales[j]!)),
        target: data.target,
      });
      const f = (x: readonly number[]) => 3e-4 * x[0]! + 2 * x[1]! + 5;
      const train = scaled(regression(100, 2, (x) => f([x[0]! * 1e4, x[1]!]), 4, 0.01));
      const model = fitModel(train, { algorithm: 'linearRegression', task: 'regression' }).serialize();
      const next = scaled(regression(500, 2, (x) => f([x[0]! * 1e4, x[1]!]) + 1, 5, 0.01));
      const fresh = scaled(regression(200, 2, (x) => f([x[0]! * 1e4, x[1]!]) + 1, 6, 0.01));
      for (const learningRate of [0.01, 0.5, 1, 1.5, 1.99]) {
        // Each row's own error shrinks by the factor |1 − μ| whatever the scales: no step overshoots it.
        const row = next.features[0]!;
        const before = next.target[0]! - loadModel(model).predictOne(row);
        const one = updateModel(model, { features: [row], target: [next.target[0]!] }, { learningRate });
        expect(next.target[0]! - one.predictOne(row)).toBeCloseTo((1 - learningRate) * before, 9);
        // Over a batch (plain SGD at this scale reaches ±Infinity within a few rows) it stays bounded,
        // and more passes do not make it worse.
        const once = rmse(updateModel(model, next, { learningRate }), fresh);
        const often = rmse(updateModel(model, next, { learningRate, epochs: 30 }), fresh);
        expect(Number.isFinite(once)).toBe(true);
        expect(once).toBeLessThan(100);
        expect(often).toBeLessThanOrEqual(once * 1.01);
      }
      // A cautious step does not make the stale model (off by the shift of 1) much worse on this scale.
      expect(rmse(updateModel(model, next, { learningRate: 0.01 }), fresh)).toBeLessThan(1.2);
      expect(() => updateModel(model, next, { learningRate: 2 })).toThrow(ValidationError);
      expect(() => updateModel(model, next, { learningRate: 0 })).toThrow(ValidationError);
    });

    it('visits rows in order: the last rows weigh most', () => {
      const model = fitModel(
        regression(50, 1, (x) => x[0]!, 7),
        { algorithm: 'linearRegression', task: 'regression' },
      );
      const early = regression(40, 1, (x) => x[0]! + 5, 8);
      const late = regression(40, 1, (x) => x[0]! - 5, 9);
      const both = (a: TrainingData, b: TrainingData) => ({
        features: [...a.features, ...b.features],
        target: [...a.target, ...b.target],
      });
      const options = { learningRate: 0.5 };
      const endsLate = updateModel(model.serialize(), both(early, late), options).predictOne([0]);
      const endsEarly = updateModel(model.serialize(), both(late, early), options).predictOne([0]);
      expect(endsLate).toBeLessThan(-4);
      expect(endsEarly).toBeGreaterThan(4);
    });

    it('a one-row update moves the model and keeps the importance it had', () => {
      const model = fitModel(regression(50, 2, old, 10), {
        algorithm: 'linearRegression',
        task: 'regression',
      });
      const updated = updateModel(model.serialize(), { features: [[0.5, 0.5]], target: [10] }, {});
      expect(updated.predictOne([0.5, 0.5])).toBeGreaterThan(model.predictOne([0.5, 0.5]));
      expect(updated.featureImportance!()).toEqual(model.featureImportance!());
    });
  });

  describe('logisticRegression: normalised SGD on the log-loss', () => {
    const before = (x: readonly number[]) => 3 * x[0]!;
    const after = (x: readonly number[]) => 3 * x[1]! - 1;

    for (const implementation of ['newton', 'mljs']) {
      it(`${implementation}: after a shift, updates lower the log-loss and raise the accuracy on fresh rows`, () => {
        const stale = fitModel(logistic(400, before, 11), {
          algorithm: 'logisticRegression',
          task: 'classification',
          implementation,
        });
        const fresh = logistic(1000, after, 13);
        const updated = stream(stale.serialize(), batches(logistic(1500, after, 12), 100), {
          learningRate: 0.5,
        });
        expect(updated.implementation).toBe(implementation);
        expect(logLoss(updated, fresh)).toBeLessThan(logLoss(stale, fresh) - 0.2);
        expect(accuracyOf(stale, fresh)).toBeLessThan(0.65);
        expect(accuracyOf(updated, fresh)).toBeGreaterThan(0.75);
      });
    }

    it('multinomial: a softmax model moves its class towards where the class went', () => {
      const centres = [
        [0, 0],
        [4, 0],
        [0, 4],
      ];
      const stale = fitModel(blobs(centres, 60, 0.7, 14), {
        algorithm: 'logisticRegression',
        task: 'classification',
      });
      expect((stale.serialize().state as { multiClass: string }).multiClass).toBe('multinomial');
      // Class 2 moves from (0, 4) to (4, 4).
      const moved = [centres[0]!, centres[1]!, [4, 4]];
      const fresh = blobs(moved, 100, 0.7, 16);
      const updated = stream(stale.serialize(), batches(blobs(moved, 200, 0.7, 15), 60), {
        learningRate: 0.5,
      });
      expect(accuracyOf(updated, fresh)).toBeGreaterThan(0.95);
      expect(accuracyOf(updated, fresh)).toBeGreaterThan(accuracyOf(stale, fresh) + 0.1);
      expect(logLoss(updated, fresh)).toBeLessThan(logLoss(stale, fresh));
    });

    it('takes a batch of one class (or one row), refuses a class the model does not know', () => {
      const model = fitModel(logistic(200, before, 17), {
        algorithm: 'logisticRegression',
        task: 'classification',
      });
      const one = updateModel(model.serialize(), { features: [[1, 1]], target: [0] }, {});
      expect(one.predictProba!([[1, 1]])[0]![0]!).toBeGreaterThan(model.predictProba!([[1, 1]])[0]![0]!);
      expect(() => updateModel(model.serialize(), { features: [[1, 1]], target: [7] }, {})).toThrow(
        /not one of the model's classes/,
      );
    });
  });

  describe('kMeans: mini-batch (Sculley 2010)', () => {
    const centres = [
      [0, 0],
      [10, 0],
      [5, 8],
    ];
    const spec = { algorithm: 'kMeans', task: 'clustering', seed: 1, params: { k: 3 } } as const;
    const unlabelled = (data: TrainingData): TrainingData => ({ features: data.features, target: [] });
    const centresOf = (model: FittedModel) => (model.serialize().state as { centres: number[][] }).centres;
    const nearestTo = (model: FittedModel, point: readonly number[]) =>
      Math.min(...centresOf(model).map((c) => Math.hypot(c[0]! - point[0]!, c[1]! - point[1]!)));

    it('counts each centre’s rows at fit time; an update adds its rows to them, through serialize and load', () => {
      const model = fitModel(unlabelled(blobs(centres, 20, 0.5, 21)), spec);
      const counts = (m: FittedModel) => (m.serialize().state as { counts: number[] }).counts;
      expect([...counts(model)].sort()).toEqual([20, 20, 20]);
      const batch = unlabelled(blobs(centres, 5, 0.5, 22));
      const updated = updateModel(JSON.parse(JSON.stringify(model.serialize())), batch, {});
      expect(counts(updated)).toEqual(counts(model).map((n) => n + 5));
      const reloaded = loadModel(JSON.parse(JSON.stringify(updated.serialize())));
      expect(counts(reloaded)).toEqual(counts(updated));
      expect(reloaded.predict(batch.features)).toEqual(updated.predict(batch.features));
    });

    it('a centre is the running mean of its rows; it tracks a cluster that moved; inertia is the batch’s', () => {
      const model = fitModel(unlabelled(blobs(centres, 20, 0.5, 21)), spec);
      // The cluster at (5, 8) moves to (5, 6): near enough that its centre still claims its rows.
      const moved = [centres[0]!, centres[1]!, [5, 6]];
      const parts = batches(unlabelled(blobs(moved, 200, 0.5, 23)), 60).map(unlabelled);
      const updated = stream(model.serialize(), parts);
      expect(nearestTo(updated, [5, 6])).toBeLessThan(0.4);
      expect(nearestTo(updated, [5, 8])).toBeGreaterThan(1.5);
      // A step floor (learningRate) forgets old rows: the centre ends nearer still.
      const forgetting = stream(model.serialize(), parts, { learningRate: 0.05 });
      expect(nearestTo(forgetting, [5, 6])).toBeLessThan(nearestTo(updated, [5, 6]));
      const last = parts.at(-1)!;
      const flat = centresOf(updated);
      const inertia = last.features.reduce(
        (s, row) => s + Math.min(...flat.map((c) => (c[0]! - row[0]!) ** 2 + (c[1]! - row[1]!) ** 2)),
        0,
      );
      expect((updated.serialize().state as { inertia: number }).inertia).toBeCloseTo(inertia, 9);
    });

    it('loads and updates a model serialised before counts: counts start from the batch’s assignment', () => {
      const model = fitModel(unlabelled(blobs(centres, 20, 0.5, 21)), spec).serialize();
      const { counts: _, ...legacy } = model.state as {
        centres: number[][];
        inertia: number;
        counts: number[];
      };
      const old = { ...model, state: legacy };
      expect(loadModel(old).predict([[0, 0]])).toEqual(loadModel(model).predict([[0, 0]]));
      const batch = unlabelled(blobs([[5, 6]], 30, 0.3, 24));
      const updated = updateModel(old, batch, {});
      const state = updated.serialize().state as { centres: number[][]; counts: number[] };
      // The centre the batch reaches starts at 30 and takes 30 more: halfway from (5, 8) to the batch's mean.
      const c = state.counts.indexOf(60);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(state.counts.filter((n) => n === 1)).toHaveLength(2);
      expect(state.centres[c]![1]!).toBeGreaterThan(6.7);
      expect(state.centres[c]![1]!).toBeLessThan(7.3);
      expect(() => loadModel({ ...model, state: { ...legacy, counts: [1, 2] } })).toThrow(ValidationError);
    });
  });

  describe('the registry', () => {
    it('says which implementations learn incrementally', () => {
      expect(canUpdate('linearRegression')).toBe(true);
      expect(canUpdate('logisticRegression')).toBe(true);
      expect(canUpdate('logisticRegression', 'mljs')).toBe(true);
      expect(canUpdate('kMeans')).toBe(true);
      expect(canUpdate('randomForest')).toBe(false);
      expect(canUpdate('decisionTree')).toBe(false);
      expect(canUpdate('linearRegression', 'nope')).toBe(false);
    });

    it('refuses, clearly, to update a model that cannot learn incrementally', () => {
      const data = blobs(
        [
          [0, 0],
          [3, 3],
        ],
        10,
        0.5,
        31,
      );
      const forestSpec = {
        algorithm: 'randomForest',
        task: 'classification',
        seed: 1,
        params: { nEstimators: 3 },
      } as const;
      const forest = fitModel(data, forestSpec);
      expect(() => updateModel(forest.serialize(), data, {})).toThrow(
        `randomForest/${forest.implementation} cannot learn incrementally; retrain it instead`,
      );
      const mljs = fitModel(data, { ...forestSpec, implementation: 'mljs' });
      expect(() => updateModel(mljs.serialize(), data, {})).toThrow(
        'randomForest/mljs cannot learn incrementally; retrain it instead',
      );
    });

    it('checks the batch and the options', () => {
      const model = fitModel(
        regression(20, 2, (x) => x[0]!, 32),
        {
          algorithm: 'linearRegression',
          task: 'regression',
        },
      ).serialize();
      const batch = regression(5, 2, (x) => x[0]!, 33);
      const pathOf = (run: () => unknown) => {
        try {
          run();
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return (error as ValidationError).issues[0]?.path;
        }
        throw new Error('expected a ValidationError');
      };
      expect(
        pathOf(() =>
          updateModel(
            model,
            regression(5, 3, (x) => x[0]!, 34),
            {},
          ),
        ),
      ).toBe('data.features');
      expect(pathOf(() => updateModel(model, { features: batch.features, target: [1] }, {}))).toBe(
        'data.target',
      );
      expect(pathOf(() => updateModel(model, batch, { epochs: 0 }))).toBe('options.epochs');
      expect(pathOf(() => updateModel(model, batch, { learningRate: -1 }))).toBe('options.learningRate');
      expect(pathOf(() => updateModel(model, batch, { foo: 1 } as never))).toBe('options.foo');
      expect(pathOf(() => updateModel({ ...model, state: { coefficients: [1] } }, batch, {}))).toMatch(
        /^state/,
      );
    });
  });
});
