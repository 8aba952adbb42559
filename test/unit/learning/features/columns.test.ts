import { describe, expect, it } from 'vitest';
import { assembleRows, deriveColumns, type Grid } from '../../../../src/learning/features/columns.js';

const NaN_ = Number.NaN;
const grid: Grid = { first: 0, stepMs: 10, n: 5 };
const a = { name: 'a', values: Float64Array.from([1, 2, NaN_, 4, 6]) };

describe('features derived from aligned series', () => {
  it('lags, rolling mean and standard deviation, differences: by hand', () => {
    const columns = deriveColumns([a], grid, { lags: [1], rolling: [2], differences: [1] });
    expect(columns.map((c) => c.name)).toEqual(['a', 'a_lag1', 'a_mean2', 'a_std2', 'a_diff1']);
    expect(columns.map((c) => [...c.values])).toEqual([
      [1, 2, NaN_, 4, 6],
      [NaN_, 1, 2, NaN_, 4],
      [NaN_, 1.5, NaN_, NaN_, 5],
      [NaN_, 0.5, NaN_, NaN_, 1],
      [NaN_, 1, NaN_, NaN_, 2],
    ]);
  });

  it('drops rows with a missing input or target and counts why; a row stands for its bucket end', () => {
    const columns = deriveColumns([a], grid, { lags: [1], rolling: [2], differences: [1] });
    const all = assembleRows(columns, grid, null);
    expect(all.features).toEqual([
      [2, 1, 1.5, 0.5, 1],
      [6, 4, 5, 1, 2],
    ]);
    expect(all.times).toEqual([20, 50]);
    expect(all.dropped).toEqual({ missingInputs: 3, missingTarget: 0, labelUnknown: 0 });
    const withTarget = assembleRows(columns, grid, Float64Array.from([10, 20, 30, 40, NaN_]), (i) => i !== 1);
    expect(withTarget.features).toEqual([]);
    expect(withTarget.dropped).toEqual({ missingInputs: 3, missingTarget: 1, labelUnknown: 1 });
  });

  it("time of day and day of week (UTC) at the row's time, as sin/cos or as numbers", () => {
    // 2024-01-01 was a Monday; the bucket 05:00–06:00 stands for 06:00.
    const monday: Grid = { first: Date.UTC(2024, 0, 1, 5), stepMs: 3_600_000, n: 1 };
    const x = { name: 'x', values: Float64Array.from([0]) };
    const numeric = deriveColumns([x], monday, {
      lags: [],
      rolling: [],
      differences: [],
      calendar: { timeOfDay: true, dayOfWeek: true, encoding: 'numeric' },
    });
    expect(numeric.map((c) => [c.name, c.values[0]])).toEqual([
      ['x', 0],
      ['hour_of_day', 6],
      ['day_of_week', 0],
    ]);
    const cyclic = deriveColumns([x], monday, {
      lags: [],
      rolling: [],
      differences: [],
      calendar: { timeOfDay: true, dayOfWeek: true, encoding: 'cyclic' },
    });
    expect(cyclic.map((c) => c.name)).toEqual([
      'x',
      'time_of_day_sin',
      'time_of_day_cos',
      'day_of_week_sin',
      'day_of_week_cos',
    ]);
    expect(cyclic[1]!.values[0]).toBeCloseTo(1, 12);
    expect(cyclic[2]!.values[0]).toBeCloseTo(0, 12);
    expect(cyclic[3]!.values[0]).toBeCloseTo(0, 12);
    expect(cyclic[4]!.values[0]).toBeCloseTo(1, 12);
  });
});
