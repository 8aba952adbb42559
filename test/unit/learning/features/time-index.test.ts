import { describe, expect, it } from 'vitest';
import { deriveColumns, type Grid, rowTime } from '../../../../src/learning/features/columns.js';
import { SeriesDatasetSpec } from '../../../../src/learning/features/dataset-spec.js';

const grid: Grid = { first: 60_000 * 1000, stepMs: 60_000, n: 4 };
const a = { name: 'a', values: Float64Array.from([1, 2, 3, 4]) };

describe('the time index column', () => {
  it('is off by default', () => {
    const spec = SeriesDatasetSpec.parse({ series: [{ name: 'a' }], from: 0, to: 10, stepMs: 1 });
    expect(spec.timeIndex).toBe(false);
    expect(deriveColumns([a], grid, spec).map((c) => c.name)).toEqual(['a']);
  });

  it('appends `step`, the row time in steps since the epoch, after every other feature', () => {
    const columns = deriveColumns([a], grid, {
      lags: [1],
      rolling: [],
      differences: [],
      calendar: { timeOfDay: true, dayOfWeek: false, encoding: 'numeric' },
      timeIndex: true,
    });
    expect(columns.map((c) => c.name)).toEqual(['a', 'a_lag1', 'hour_of_day', 'step']);
    // A row stands for the end of its bucket: bucket i ends at first + (i + 1)·step.
    expect([...columns[3]!.values]).toEqual([1001, 1002, 1003, 1004]);
    columns[3]!.values.forEach((v, i) => {
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBe(rowTime(grid, i) / grid.stepMs);
    });
  });
});
