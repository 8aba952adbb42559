import { describe, expect, it } from 'vitest';
import { labelKnownAt, labelsAt } from '../../../../src/learning/features/labels.js';

describe('failure labels: 1 iff a fact has its time in (t, t + h]', () => {
  it('counts a fact strictly after the row and at most the horizon later', () => {
    const rows = [0, 10, 20, 30, 40];
    // A fact at 25 with h = 15: rows 10 (25 ∈ (10, 25]) and 20; not row 0 ((0, 15]), not row 30 (it came before).
    expect([...labelsAt(rows, [25], 15)]).toEqual([0, 1, 1, 0, 0]);
    // A fact exactly at a row's time does not label that row, only earlier ones.
    expect([...labelsAt(rows, [30], 10)]).toEqual([0, 0, 1, 0, 0]);
    expect([...labelsAt(rows, [45, 5], 5)]).toEqual([1, 0, 0, 0, 1]);
    expect([...labelsAt(rows, [], 100)]).toEqual([0, 0, 0, 0, 0]);
  });

  it('knows a label once its whole horizon has passed', () => {
    expect(labelKnownAt(100, 50, 150)).toBe(true);
    expect(labelKnownAt(100, 50, 149)).toBe(false);
  });
});
