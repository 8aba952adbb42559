import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvError, parseTrainingCsv } from '../../../src/learning/csv.js';
import { ALGORITHMS } from '../../../src/learning/registry.js';
import { runToExit, startTsChild } from '../../support/child-process.js';
import { tempDir } from '../../support/fixtures.js';

const IRIS_TRAIN = 'test/fixtures/ml/iris-train.csv';
const IRIS_TEST = 'test/fixtures/ml/iris-test.csv';

const evalMl = (args: readonly string[]) => runToExit(startTsChild('scripts/eval-ml.ts', args));

interface EvalResult {
  algorithm: string;
  implementation: string;
  accuracy?: number;
  r2?: number;
  trainMs: number;
  error?: string;
}

function lastJson(out: string): { results: EvalResult[] } {
  const lines = out.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { results: EvalResult[] };
}

describe('npm run eval:ml', () => {
  it('trains every classification algorithm on iris with its defaults and ends with one JSON line', async () => {
    const run = await evalMl(['--train', IRIS_TRAIN, '--test', IRIS_TEST, '--task', 'classification']);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const { results } = lastJson(run.out);
    const expected = ALGORITHMS.filter((a) => a.tasks.includes('classification')).map((a) => ({
      algorithm: a.name,
      implementation: a.defaultImplementation,
    }));
    expect(results.map((r) => ({ algorithm: r.algorithm, implementation: r.implementation }))).toEqual(
      expected,
    );
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.r2).toBeUndefined();
      // Iris is easy: anything below 0.8 on its 45 test rows is broken, not unlucky.
      expect(r.accuracy).toBeGreaterThan(0.8);
      expect(r.accuracy).toBeLessThanOrEqual(1);
      expect(r.trainMs).toBeGreaterThanOrEqual(0);
    }
    // The table names every algorithm before the JSON line.
    for (const { algorithm } of expected) expect(run.out).toContain(algorithm);
  });

  it('trains only the named algorithm and reports R² for regression', async () => {
    const run = await evalMl([
      '--train',
      'test/fixtures/ml/diabetes-train.csv',
      '--test',
      'test/fixtures/ml/diabetes-test.csv',
      '--task',
      'regression',
      '--algorithm',
      'linearRegression',
    ]);
    expect(run.code).toBe(0);
    const { results } = lastJson(run.out);
    expect(results).toHaveLength(1);
    expect(results[0]!.algorithm).toBe('linearRegression');
    expect(results[0]!.accuracy).toBeUndefined();
    expect(results[0]!.r2).toBeGreaterThan(0.4);
  });

  it('names the file, line and column of a malformed cell, and exits 1', async () => {
    const dir = tempDir('eval-ml-');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b,target\n1,2,0\n3,4,1\n5,oops,0\n');
    const run = await evalMl(['--train', bad, '--test', IRIS_TEST, '--task', 'classification']);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`${bad}:4, column 2`);
    expect(run.err).toContain('"oops" is not a number');
    expect(run.out).toBe('');
  });

  it('prints its usage and exits 2 on bad arguments', async () => {
    const [noTask, badTask, unknown, badAlgorithm] = await Promise.all([
      evalMl(['--train', IRIS_TRAIN, '--test', IRIS_TEST]),
      evalMl(['--train', IRIS_TRAIN, '--test', IRIS_TEST, '--task', 'clustering']),
      evalMl(['--train', IRIS_TRAIN, '--test', IRIS_TEST, '--task', 'regression', '--frobnicate']),
      evalMl(['--train', IRIS_TRAIN, '--test', IRIS_TEST, '--task', 'regression', '--algorithm', 'svm']),
    ]);
    for (const run of [noTask, badTask, unknown, badAlgorithm]) {
      expect(run.code).toBe(2);
      expect(run.err).toContain('usage: npm run eval:ml');
      expect(run.out).toBe('');
    }
    expect(badTask.err).toContain('--task must be classification or regression');
    expect(badAlgorithm.err).toContain('unknown --algorithm svm');
  });
});

describe('the training CSV reader', () => {
  const error = (text: string): CsvError => {
    try {
      parseTrainingCsv(text, 'f.csv');
    } catch (e) {
      if (e instanceof CsvError) return e;
      throw e;
    }
    throw new Error('parsed');
  };

  it('reads a header, numeric features and the target, skipping blank lines and CRLF', () => {
    const data = parseTrainingCsv('\uFEFFx0,"x 1",target\r\n1,2.5e1,0\r\n\r\n-.5,+3,1\r\n', 'f.csv');
    expect(data.featureNames).toEqual(['x0', 'x 1']);
    expect(data.features).toEqual([
      [1, 25],
      [-0.5, 3],
    ]);
    expect(data.target).toEqual([0, 1]);
    expect(data.lines).toEqual([2, 4]);
  });

  it('names the file, line and column of whatever is wrong', () => {
    expect(error('').message).toBe('f.csv:1: the file is empty (expected a header row)');
    expect(error('1,2,3\n4,5,6\n').message).toMatch(/^f\.csv:1, column 1: "1" looks like a number/);
    expect(error('a,b,y\n1,2,3\n').message).toBe(
      'f.csv:1, column 3: the last column must be named "target" (found "y")',
    );
    expect(error('a,a,target\n').message).toBe('f.csv:1, column 2: column name "a" repeats column 1');
    expect(error('target\n1\n').message).toBe('f.csv:1: no feature columns before "target"');
    expect(error('a,target\n').message).toBe('f.csv:1: a header row but no data rows');
    expect(error('a,b,target\n1,2,3\n1,2\n').message).toBe('f.csv:3: 2 cells where the header has 3 columns');
    expect(error('a,b,target\n1,,3\n').message).toBe('f.csv:2, column 2: empty cell (column "b")');
    for (const cell of ['0x10', 'Infinity', 'NaN', '1e', '--1', '1.2.3', ' '])
      expect(error(`a,b,target\n1,${cell},3\n`).message).toMatch(/^f\.csv:2, column 2: /);
    expect(error('a,target\n1e999,1\n').message).toBe(
      'f.csv:2, column 1: "1e999" is out of range (column "a")',
    );
    const label = (() => {
      try {
        parseTrainingCsv('a,target\n1,0.5\n', 'f.csv', { integerTarget: true });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(label).toBe(
      'f.csv:2, column 2: "0.5" is not an integer class label (column "target", task classification)',
    );
  });
});
