import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlgorithmName, Task } from '../../../src/learning/algorithm.js';
import { readTrainingCsv } from '../../../src/learning/csv.js';
import { ALGORITHMS, fitModel } from '../../../src/learning/registry.js';

/**
 * Side by side with scikit-learn: each default implementation, fitted through `fitModel` with its
 * default hyper-parameters on the committed train split, scored on the test split, against the scores
 * scikit-learn's defaults got on the very same files (test/fixtures/ml/sklearn-reference.json, written by
 * scripts/ml/export-fixtures.py; no Python is needed here).
 *
 * The bars: accuracy no more than 2 points below scikit-learn's LogisticRegression (in a Pipeline after a
 * StandardScaler; ours is fed the raw features: its default standardises them itself), DecisionTreeClassifier and RandomForestClassifier; R² no more than 0.02 below
 * LinearRegression's. Doing better than scikit-learn passes. The regression trees are compared for
 * information only.
 */

const FIXTURES = 'test/fixtures/ml';
const ACCURACY_BAR = 0.02;
const R2_BAR = 0.02;
const BARRED: Record<'classification' | 'regression', readonly AlgorithmName[]> = {
  classification: ['logisticRegression', 'decisionTree', 'randomForest'],
  regression: ['linearRegression'],
};
/** Deterministic fits (bootstrap and feature sampling of the forest); scikit-learn's side is random_state=0. */
const SEED = 0;

interface Reference {
  sklearn: string;
  datasets: Record<
    string,
    {
      task: 'classification' | 'regression';
      train: string;
      test: string;
      results: Record<string, { accuracy?: number; r2?: number; trainMs: number }>;
    }
  >;
}
const reference = JSON.parse(readFileSync(join(FIXTURES, 'sklearn-reference.json'), 'utf8')) as Reference;

interface Row {
  dataset: string;
  algorithm: string;
  implementation: string;
  metric: 'accuracy' | 'r2';
  ours: number;
  sklearn: number;
  oursMs: number;
  sklearnMs: number;
  barred: boolean;
}
const rows: Row[] = [];

const accuracy = (predicted: readonly number[], actual: readonly number[]) =>
  predicted.reduce((hits, p, i) => hits + (p === actual[i] ? 1 : 0), 0) / actual.length;

function r2(predicted: readonly number[], actual: readonly number[]): number {
  const mean = actual.reduce((s, v) => s + v, 0) / actual.length;
  let residual = 0;
  let total = 0;
  actual.forEach((v, i) => {
    residual += (v - predicted[i]!) ** 2;
    total += (v - mean) ** 2;
  });
  return 1 - residual / total;
}

const algorithmsFor = (task: Task) => ALGORITHMS.filter((a) => a.tasks.includes(task));

for (const [dataset, entry] of Object.entries(reference.datasets)) {
  describe(dataset, () => {
    const train = readTrainingCsv(join(FIXTURES, entry.train));
    const test = readTrainingCsv(join(FIXTURES, entry.test));
    const metric = entry.task === 'classification' ? 'accuracy' : 'r2';

    for (const algorithm of algorithmsFor(entry.task)) {
      const theirs = entry.results[algorithm.name];
      if (theirs === undefined) continue;
      const barred = BARRED[entry.task].includes(algorithm.name);
      it(`${algorithm.name} (${algorithm.defaultImplementation}) ${barred ? 'keeps up with' : 'is compared with'} scikit-learn's`, () => {
        const started = performance.now();
        const model = fitModel(
          { features: train.features, target: train.target, featureNames: train.featureNames },
          { algorithm: algorithm.name, task: entry.task, seed: SEED },
        );
        const oursMs = performance.now() - started;
        const predicted = model.predict(test.features);
        const ours = metric === 'accuracy' ? accuracy(predicted, test.target) : r2(predicted, test.target);
        const sklearn = theirs[metric]!;
        rows.push({
          dataset,
          algorithm: algorithm.name,
          implementation: model.implementation,
          metric,
          ours,
          sklearn,
          oursMs,
          sklearnMs: theirs.trainMs,
          barred,
        });
        expect(model.implementation).toBe(algorithm.defaultImplementation);
        if (barred) {
          const bar = metric === 'accuracy' ? ACCURACY_BAR : R2_BAR;
          // A rounding margin: the reference keeps 6 decimals.
          expect(
            ours,
            `${dataset} ${algorithm.name}: ${metric} ${ours} vs scikit-learn's ${sklearn}`,
          ).toBeGreaterThanOrEqual(sklearn - bar - 1e-6);
        }
      });
    }
  });
}

afterAll(() => {
  const header = [
    'dataset',
    'algorithm',
    'implementation',
    'metric',
    'ours',
    'sklearn',
    'Δ',
    'ours ms',
    'sklearn ms',
  ];
  const table = [
    header,
    ...rows.map((r) => [
      r.dataset,
      r.algorithm,
      r.implementation,
      r.barred ? r.metric : `${r.metric} (info)`,
      r.ours.toFixed(4),
      r.sklearn.toFixed(4),
      (r.ours - r.sklearn >= 0 ? '+' : '') + (r.ours - r.sklearn).toFixed(4),
      r.oursMs.toFixed(1),
      r.sklearnMs.toFixed(1),
    ]),
  ];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const text = table
    .map((row) =>
      row.map((cell, c) => (c >= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '),
    )
    .join('\n');
  console.log(`Compared with scikit-learn ${reference.sklearn}:\n${text}`);
});
