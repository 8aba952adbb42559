/**
 * Learning benchmark: training time of each algorithm's default implementation on a seeded synthetic
 * 10,000 × 20 set (classification like scikit-learn's make_classification, and a linear regression
 * with noise), and the latency of `predictOne` averaged over many rows. Prints a table, then one JSON
 * object on the last line: `predictMicros` is the decision tree's; `predictMicros<Model>` each model's.
 */

import { createRandom, type Random } from '../src/domain/random.js';
import type { FittedModel, ModelSpec, TrainingData } from '../src/learning/algorithm.js';
import { fitModel } from '../src/learning/registry.js';
import { fmt, median, report } from './report.js';

const ROWS = 10_000;
const TEST_ROWS = 2_000;
const FEATURES = 20;

function gaussian(random: Random): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/**
 * Like make_classification(n_features=20, n_informative=5, n_redundant=5, n_classes=2, flip_y=0.01):
 * informative features around a class-dependent vertex of a hypercube (two clusters per class), redundant
 * ones as random mixtures of them, the rest noise; 1% of labels flipped.
 */
function makeClassification(rows: number, seed: number): TrainingData {
  const random = createRandom(seed);
  const informative = 5;
  const redundant = 5;
  const clusters = Array.from({ length: 4 }, () =>
    Array.from({ length: informative }, () => (random.next() < 0.5 ? -1 : 1)),
  );
  const mixing = Array.from({ length: redundant }, () =>
    Array.from({ length: informative }, () => 2 * random.next() - 1),
  );
  const features: number[][] = [];
  const target: number[] = [];
  for (let i = 0; i < rows; i++) {
    const cluster = random.int(clusters.length);
    const label = cluster % 2;
    const info = clusters[cluster]!.map((centre) => centre + gaussian(random));
    const redundantValues = mixing.map((weights) => weights.reduce((s, w, j) => s + w * info[j]!, 0));
    const noise = Array.from({ length: FEATURES - informative - redundant }, () => gaussian(random));
    features.push([...info, ...redundantValues, ...noise]);
    target.push(random.next() < 0.01 ? 1 - label : label);
  }
  return { features, target };
}

/** y = x·β + 10 + N(0, 50²), with 10 of the 20 features informative (β uniform in [0, 100)). */
function makeRegression(rows: number, seed: number): TrainingData {
  const random = createRandom(seed);
  const beta = Array.from({ length: FEATURES }, (_, j) => (j < 10 ? 100 * random.next() : 0));
  const features: number[][] = [];
  const target: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = Array.from({ length: FEATURES }, () => gaussian(random));
    features.push(row);
    target.push(row.reduce((s, v, j) => s + v * beta[j]!, 10) + 50 * gaussian(random));
  }
  return { features, target };
}

function split(data: TrainingData, train: number): [TrainingData, TrainingData] {
  return [
    { features: data.features.slice(0, train), target: data.target.slice(0, train) },
    { features: data.features.slice(train), target: data.target.slice(train) },
  ];
}

function score(model: FittedModel, test: TrainingData): number {
  const predicted = model.predict(test.features);
  if (model.task === 'classification') {
    return predicted.filter((v, i) => v === test.target[i]).length / predicted.length;
  }
  const mean = test.target.reduce((s, v) => s + v, 0) / test.target.length;
  let ssRes = 0;
  let ssTot = 0;
  predicted.forEach((v, i) => {
    ssRes += (test.target[i]! - v) ** 2;
    ssTot += (test.target[i]! - mean) ** 2;
  });
  return 1 - ssRes / ssTot;
}

function timeFit(data: TrainingData, spec: ModelSpec, runs: number): { model: FittedModel; ms: number } {
  const times: number[] = [];
  let model: FittedModel | undefined;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    model = fitModel(data, spec);
    times.push(performance.now() - started);
  }
  return { model: model!, ms: median(times) };
}

/** predictOne's mean latency in µs over 100,000 calls, cycling through the held-out rows. */
function predictMicros(model: FittedModel, rows: readonly (readonly number[])[]): number {
  const calls = 100_000;
  let sink = 0;
  for (let i = 0; i < 2_000; i++) sink += model.predictOne(rows[i % rows.length]!);
  const started = performance.now();
  for (let i = 0; i < calls; i++) sink += model.predictOne(rows[i % rows.length]!);
  const micros = ((performance.now() - started) * 1000) / calls;
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return micros;
}

const [classTrain, classTest] = split(makeClassification(ROWS + TEST_ROWS, 1), ROWS);
const [regTrain, regTest] = split(makeRegression(ROWS + TEST_ROWS, 2), ROWS);

// Warm the JIT on a small set so the timings are of steady-state code.
const warmClass = split(makeClassification(1_000, 3), 1_000)[0];
const warmReg = split(makeRegression(1_000, 4), 1_000)[0];
for (const spec of [
  { algorithm: 'logisticRegression', task: 'classification' },
  { algorithm: 'decisionTree', task: 'classification' },
  { algorithm: 'randomForest', task: 'classification', params: { nEstimators: 5 } },
] as const) {
  fitModel(warmClass, { ...spec, seed: 1 });
}
fitModel(warmReg, { algorithm: 'linearRegression', task: 'regression' });

const cases = [
  { key: 'logistic', label: 'logisticRegression', data: [classTrain, classTest], runs: 3 },
  { key: 'linear', label: 'linearRegression', data: [regTrain, regTest], runs: 3 },
  { key: 'tree', label: 'decisionTree', data: [classTrain, classTest], runs: 3 },
  { key: 'forest', label: 'randomForest', data: [classTrain, classTest], runs: 1 },
] as const;

const rows: [string, string][] = [];
const figures: Record<string, number> = {};
const perModel: Record<string, number> = {};
for (const c of cases) {
  const [train, test] = c.data;
  const task = c.key === 'linear' ? 'regression' : 'classification';
  const { model, ms } = timeFit(train, { algorithm: c.label, task, seed: 42 }, c.runs);
  const micros = predictMicros(model, test.features);
  const quality = score(model, test);
  figures[`${c.key}TrainMs`] = Math.round(ms * 10) / 10;
  perModel[c.key] = Math.round(micros * 1000) / 1000;
  rows.push([
    `${c.label}/${model.implementation} (${task})`,
    `train ${fmt(ms, 1)} ms · predictOne ${fmt(micros, 3)} µs · ${task === 'regression' ? 'R²' : 'accuracy'} ${fmt(quality, 4)}`,
  ]);
}

report('learning', rows, {
  logisticTrainMs: figures.logisticTrainMs!,
  linearTrainMs: figures.linearTrainMs!,
  treeTrainMs: figures.treeTrainMs!,
  forestTrainMs: figures.forestTrainMs!,
  predictMicros: perModel.tree!,
  predictMicrosLogistic: perModel.logistic!,
  predictMicrosLinear: perModel.linear!,
  predictMicrosTree: perModel.tree!,
  predictMicrosForest: perModel.forest!,
  rows: ROWS,
  features: FEATURES,
});
