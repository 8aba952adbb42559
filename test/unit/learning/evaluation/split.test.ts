import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/domain/errors.js';
import { holdout, kFolds } from '../../../../src/learning/evaluation/split.js';

const count = (rows: readonly number[], labels: readonly number[], label: number) =>
  rows.filter((i) => labels[i] === label).length;

describe('seeded splits', () => {
  it('k-fold: every row is tested exactly once; the same seed gives the same folds', () => {
    const folds = kFolds(23, 5, 42);
    expect(folds.map((f) => f.test.length)).toEqual([5, 5, 5, 4, 4]);
    expect(folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 23 }, (_, i) => i),
    );
    for (const f of folds) {
      expect(f.train.length + f.test.length).toBe(23);
      expect(f.train.filter((i) => f.test.includes(i))).toEqual([]);
    }
    expect(kFolds(23, 5, 42)).toEqual(folds);
    expect(kFolds(23, 5, 43)).not.toEqual(folds);
  });

  it('stratified k-fold keeps each class share in every fold', () => {
    const labels = [...Array(30).fill(0), ...Array(10).fill(1)];
    const folds = kFolds(40, 5, 7, labels);
    for (const f of folds) {
      expect(count(f.test, labels, 0)).toBe(6);
      expect(count(f.test, labels, 1)).toBe(2);
    }
    // Uneven: 7 of class 2 over 3 folds → 3, 2, 2 (within one).
    const uneven = [...Array(9).fill(0), ...Array(7).fill(2)];
    for (const f of kFolds(16, 3, 1, uneven)) expect([2, 3]).toContain(count(f.test, uneven, 2));
    expect(kFolds(40, 5, 7, labels)).toEqual(folds);
  });

  it('holdout: round(n · fraction) test rows, stratified per class, seeded', () => {
    const plain = holdout(10, 0.3, 1);
    expect(plain.test).toHaveLength(3);
    expect(plain.train).toHaveLength(7);
    expect(holdout(10, 0.3, 1)).toEqual(plain);
    const labels = [...Array(80).fill(0), ...Array(20).fill(1)];
    const split = holdout(100, 0.25, 3, labels);
    expect(count(split.test, labels, 0)).toBe(20);
    expect(count(split.test, labels, 1)).toBe(5);
  });

  it('refuses what cannot be split, naming the field', () => {
    expect(() => kFolds(3, 5, 0)).toThrow(ValidationError);
    expect(() => kFolds(3, 5, 0)).toThrow(/folds: 5 folds need at least 5 rows/);
    expect(() => holdout(10, 1, 0)).toThrow(/testFraction/);
    expect(() => holdout(1, 0.2, 0)).toThrow(/testFraction: leaves 0 of 1 rows/);
  });
});
