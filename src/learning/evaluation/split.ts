import { ValidationError } from '../../domain/errors.js';
import { createRandom, type Random } from '../../domain/random.js';

/**
 * Splits of rows into training and test rows, seeded: the same seed, rows and targets give the same
 * splits on every run and platform. Stratified splits keep each class's share in every part (within
 * one row per class and fold). Indices are ascending within each part.
 */
export interface Split {
  readonly train: number[];
  readonly test: number[];
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

/** Fisher–Yates, in place. */
function shuffle(items: number[], random: Random): number[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ascending = (a: number, b: number) => a - b;

/** Row indices by class label, classes ascending. */
function byClass(labels: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const list = groups.get(y) ?? [];
    list.push(i);
    groups.set(y, list);
  });
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, rows]) => rows);
}

/** The fold of each row. */
function toSplits(fold: readonly number[], k: number): Split[] {
  return range(k).map((f) => ({
    train: fold.flatMap((g, i) => (g === f ? [] : [i])),
    test: fold.flatMap((g, i) => (g === f ? [i] : [])),
  }));
}

/**
 * k folds: every row is a test row exactly once. Unstratified: rows shuffled, then cut into k runs
 * whose sizes differ by at most one. Stratified (`labels` given): each class's rows shuffled, then
 * dealt to the folds in turn, the turn carrying on from one class to the next.
 */
export function kFolds(n: number, k: number, seed: number, labels?: readonly number[] | null): Split[] {
  if (!Number.isInteger(k) || k < 2) invalid('folds', `must be a whole number of at least 2, got ${k}`);
  if (k > n) invalid('folds', `${k} folds need at least ${k} rows, the dataset has ${n}`);
  const random = createRandom(seed);
  const fold = new Array<number>(n).fill(0);
  if (labels) {
    let turn = 0;
    for (const rows of byClass(labels)) for (const i of shuffle([...rows], random)) fold[i] = turn++ % k;
  } else {
    const order = shuffle(range(n), random);
    let at = 0;
    for (let f = 0; f < k; f++) {
      const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
      for (let j = 0; j < size; j++) fold[order[at++]!] = f;
    }
  }
  return toSplits(fold, k);
}

/**
 * One split with `round(n · testFraction)` test rows (stratified: `round(count · testFraction)` of each
 * class, leaving at least one of each class to train on).
 */
export function holdout(
  n: number,
  testFraction: number,
  seed: number,
  labels?: readonly number[] | null,
): Split {
  if (!(testFraction > 0 && testFraction < 1))
    invalid('testFraction', `must be between 0 and 1 (exclusive), got ${testFraction}`);
  const random = createRandom(seed);
  const test: number[] = [];
  if (labels) {
    for (const rows of byClass(labels)) {
      const take = Math.min(rows.length - 1, Math.round(rows.length * testFraction));
      test.push(...shuffle([...rows], random).slice(0, take));
    }
  } else test.push(...shuffle(range(n), random).slice(0, Math.round(n * testFraction)));
  if (test.length === 0 || test.length === n)
    invalid(
      'testFraction',
      `leaves ${test.length} of ${n} rows to test on: give more rows or another fraction`,
    );
  const inTest = new Set(test);
  return { train: range(n).filter((i) => !inTest.has(i)), test: test.sort(ascending) };
}
