/**
 * Trains the learning core's algorithms on one CSV and scores them on another: every algorithm that
 * does the task, each with its default implementation (or only `--algorithm`, or `--implementation`),
 * with its default hyper-parameters. Prints a table, and as the last line one JSON object:
 * `{"results":[{"algorithm","implementation","accuracy"|"r2","trainMs"}]}`.
 *
 * Files: a header row, numeric feature columns, a last column named `target` (see src/learning/csv.ts).
 * Exit codes: 0 when every model trained; 1 when a file cannot be read or parsed, or a model failed
 * (its result then carries an `error`); 2 for bad arguments.
 *
 * Usage: npm run eval:ml -- --train FILE --test FILE --task classification|regression
 *        [--algorithm NAME] [--implementation NAME] [--seed N]
 */
import { parseArgs } from 'node:util';
import { ALGORITHM_NAMES, type AlgorithmName, type Task } from '../src/learning/algorithm.js';
import { CsvError, type CsvTrainingData, readTrainingCsv } from '../src/learning/csv.js';
import { ALGORITHMS, fitModel } from '../src/learning/registry.js';

const USAGE =
  'usage: npm run eval:ml -- --train FILE --test FILE --task classification|regression ' +
  '[--algorithm NAME] [--implementation NAME] [--seed N]';

function usage(problem: string): never {
  process.stderr.write(`eval:ml: ${problem}\n${USAGE}\n`);
  process.exit(2);
}

function fail(problem: string): never {
  process.stderr.write(`eval:ml: ${problem}\n`);
  process.exit(1);
}

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: {
      train: { type: 'string' },
      test: { type: 'string' },
      task: { type: 'string' },
      algorithm: { type: 'string' },
      implementation: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}
try {
  parsed = parseOptions();
} catch (error) {
  usage((error as Error).message);
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!parsed.train) usage('--train FILE is required');
if (!parsed.test) usage('--test FILE is required');
if (parsed.task !== 'classification' && parsed.task !== 'regression')
  usage(`--task must be classification or regression (got ${parsed.task ?? 'nothing'})`);
const task: Task = parsed.task;
const seed = parsed.seed === undefined ? 0 : Number(parsed.seed);
if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer (got ${parsed.seed})`);

const forTask = ALGORITHMS.filter((a) => a.tasks.includes(task));
let chosen = forTask;
if (parsed.algorithm !== undefined) {
  const name = parsed.algorithm;
  if (!(ALGORITHM_NAMES as readonly string[]).includes(name))
    usage(`unknown --algorithm ${name} (one of ${ALGORITHM_NAMES.join(', ')})`);
  chosen = forTask.filter((a) => a.name === name);
  if (chosen.length === 0)
    usage(`--algorithm ${name} does not do ${task} (for ${task}: ${forTask.map((a) => a.name).join(', ')})`);
}
const runs: { algorithm: AlgorithmName; implementation: string }[] = [];
for (const algorithm of chosen) {
  const implementation = parsed.implementation ?? algorithm.defaultImplementation;
  const found = algorithm.implementations.find((i) => i.name === implementation);
  if (found?.tasks.includes(task)) runs.push({ algorithm: algorithm.name, implementation });
}
if (runs.length === 0) {
  const known = chosen.flatMap((a) =>
    a.implementations.filter((i) => i.tasks.includes(task)).map((i) => `${a.name}/${i.name}`),
  );
  usage(`no implementation named ${parsed.implementation} for ${task} (known: ${known.join(', ')})`);
}

function read(path: string): CsvTrainingData {
  try {
    return readTrainingCsv(path, { integerTarget: task === 'classification' });
  } catch (error) {
    if (error instanceof CsvError) fail(error.message);
    fail(`cannot read ${path}: ${(error as Error).message}`);
  }
}
const train = read(parsed.train);
const test = read(parsed.test);
train.featureNames.forEach((name, i) => {
  if (test.featureNames[i] !== name)
    fail(
      `${parsed.test}:1, column ${i + 1}: "${test.featureNames[i] ?? '(missing)'}" where ${parsed.train} has "${name}"`,
    );
});
if (test.featureNames.length !== train.featureNames.length)
  fail(
    `${parsed.test}:1: ${test.featureNames.length} feature columns where ${parsed.train} has ${train.featureNames.length}`,
  );

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
  return total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
}

interface Result {
  algorithm: AlgorithmName;
  implementation: string;
  accuracy?: number;
  r2?: number;
  trainMs: number;
  error?: string;
}
const metric = task === 'classification' ? 'accuracy' : 'r2';
const results: Result[] = [];
for (const run of runs) {
  const started = performance.now();
  try {
    const model = fitModel(
      { features: train.features, target: train.target, featureNames: train.featureNames },
      { algorithm: run.algorithm, task, implementation: run.implementation, seed },
    );
    const trainMs = Math.round((performance.now() - started) * 10) / 10;
    const predicted = model.predict(test.features);
    const score = metric === 'accuracy' ? accuracy(predicted, test.target) : r2(predicted, test.target);
    results.push({ ...run, [metric]: Math.round(score * 1e6) / 1e6, trainMs });
  } catch (error) {
    const trainMs = Math.round((performance.now() - started) * 10) / 10;
    results.push({ ...run, trainMs, error: (error as Error).message });
  }
}

const rows = [
  ['algorithm', 'implementation', metric, 'train ms'],
  ...results.map((r) => [
    r.algorithm,
    r.implementation,
    r.error === undefined ? (r[metric] ?? Number.NaN).toFixed(4) : `error: ${r.error}`,
    r.trainMs.toFixed(1),
  ]),
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
const line = (row: readonly string[]) =>
  row
    .map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
    .join('  ')
    .trimEnd();
process.stdout.write(
  `train ${parsed.train} (${train.features.length} rows × ${train.featureNames.length} features), ` +
    `test ${parsed.test} (${test.features.length} rows), task ${task}\n`,
);
process.stdout.write(`${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
for (const row of rows.slice(1)) process.stdout.write(`${line(row)}\n`);
process.stdout.write(`${JSON.stringify({ results })}\n`);
if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
