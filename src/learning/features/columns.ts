import type { DroppedRows } from './dataset.js';
import type { CalendarSpec } from './dataset-spec.js';

/**
 * Features derived from series aligned on a step. Pure: columns are dense arrays over the range's
 * buckets, NaN where a bucket has no sample. Bucket i is `[first + i·step, first + (i+1)·step)` and its
 * row stands for the instant `first + (i+1)·step`, the end of the bucket, when all its inputs are known.
 */

export interface Grid {
  /** Start of the first bucket (a multiple of the step). */
  readonly first: number;
  readonly stepMs: number;
  /** Buckets in the range. */
  readonly n: number;
}

export interface Column {
  readonly name: string;
  readonly values: Float64Array;
}

export interface Derivations {
  /** k: the value k steps back (`name_lag{k}`). */
  readonly lags: readonly number[];
  /** w: mean and population standard deviation of the last w buckets, this one included (`name_mean{w}`, `name_std{w}`). */
  readonly rolling: readonly number[];
  /** k: this bucket minus the one k steps back (`name_diff{k}`). */
  readonly differences: readonly number[];
  readonly calendar?: CalendarSpec | undefined;
  /** A last column `step`: the row's time (`rowTime`) in steps since the epoch, a whole number. */
  readonly timeIndex?: boolean | undefined;
}

export const rowTime = (grid: Grid, i: number) => grid.first + (i + 1) * grid.stepMs;

function shifted(x: Float64Array, k: number): Float64Array {
  const out = new Float64Array(x.length).fill(Number.NaN);
  for (let i = k; i < x.length; i++) out[i] = x[i - k]!;
  return out;
}

/** Mean and population standard deviation over windows of w; NaN where the window lacks a value. */
function rollingStats(x: Float64Array, w: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(x.length).fill(Number.NaN);
  const std = new Float64Array(x.length).fill(Number.NaN);
  for (let i = w - 1; i < x.length; i++) {
    let sum = 0;
    let ok = true;
    for (let j = i - w + 1; j <= i; j++) {
      if (Number.isNaN(x[j]!)) {
        ok = false;
        break;
      }
      sum += x[j]!;
    }
    if (!ok) continue;
    const m = sum / w;
    let ss = 0;
    for (let j = i - w + 1; j <= i; j++) ss += (x[j]! - m) ** 2;
    mean[i] = m;
    std[i] = Math.sqrt(ss / w);
  }
  return { mean, std };
}

const DAY_MS = 86_400_000;

/** Time of day and day of week (UTC) at each row's time, as sin/cos or as numbers. */
function calendarColumns(grid: Grid, spec: CalendarSpec): Column[] {
  const out: Column[] = [];
  const build = (name: string, f: (t: number) => number) => {
    const values = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) values[i] = f(rowTime(grid, i));
    out.push({ name, values });
  };
  const dayFraction = (t: number) => (((t % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
  /** 0 = Monday … 6 = Sunday. */
  const weekday = (t: number) => (new Date(t).getUTCDay() + 6) % 7;
  if (spec.timeOfDay && spec.encoding === 'cyclic') {
    build('time_of_day_sin', (t) => Math.sin(2 * Math.PI * dayFraction(t)));
    build('time_of_day_cos', (t) => Math.cos(2 * Math.PI * dayFraction(t)));
  } else if (spec.timeOfDay) build('hour_of_day', (t) => dayFraction(t) * 24);
  if (spec.dayOfWeek && spec.encoding === 'cyclic') {
    build('day_of_week_sin', (t) => Math.sin((2 * Math.PI * weekday(t)) / 7));
    build('day_of_week_cos', (t) => Math.cos((2 * Math.PI * weekday(t)) / 7));
  } else if (spec.dayOfWeek) build('day_of_week', weekday);
  return out;
}

/** The name of the time-index column (`Derivations.timeIndex`). */
export const STEP_COLUMN = 'step';

/**
 * Each series' own column, then its lags, rolling statistics and differences; then the calendar; then,
 * with `timeIndex`, the row's time in steps (`step`: `rowTime / stepMs`, a whole number since the first
 * bucket starts on a multiple of the step).
 */
export function deriveColumns(series: readonly Column[], grid: Grid, d: Derivations): Column[] {
  const out: Column[] = [];
  for (const { name, values } of series) {
    out.push({ name, values });
    for (const k of d.lags) out.push({ name: `${name}_lag${k}`, values: shifted(values, k) });
    for (const w of d.rolling) {
      const { mean, std } = rollingStats(values, w);
      out.push({ name: `${name}_mean${w}`, values: mean }, { name: `${name}_std${w}`, values: std });
    }
    for (const k of d.differences) {
      const back = shifted(values, k);
      out.push({ name: `${name}_diff${k}`, values: values.map((v, i) => v - back[i]!) });
    }
  }
  if (d.calendar) out.push(...calendarColumns(grid, d.calendar));
  if (d.timeIndex) {
    const values = new Float64Array(grid.n);
    for (let i = 0; i < grid.n; i++) values[i] = rowTime(grid, i) / grid.stepMs;
    out.push({ name: STEP_COLUMN, values });
  }
  return out;
}

export interface AssembledRows {
  readonly features: number[][];
  readonly target: number[];
  readonly times: number[];
  readonly dropped: DroppedRows;
}

/**
 * One row per bucket, kept when every feature and the target are known. A dropped row counts under
 * the first reason that applies: missing inputs, then a missing target, then an unknown label.
 * `target` is NaN where missing; `labelKnown` says whether the row's label can be known yet.
 */
export function assembleRows(
  columns: readonly Column[],
  grid: Grid,
  target: Float64Array | null,
  labelKnown: (i: number) => boolean = () => true,
): AssembledRows {
  const features: number[][] = [];
  const y: number[] = [];
  const times: number[] = [];
  let missingInputs = 0;
  let missingTarget = 0;
  let labelUnknown = 0;
  for (let i = 0; i < grid.n; i++) {
    const row = columns.map((c) => c.values[i]!);
    if (row.some(Number.isNaN)) missingInputs++;
    else if (target && Number.isNaN(target[i]!)) missingTarget++;
    else if (!labelKnown(i)) labelUnknown++;
    else {
      features.push(row);
      if (target) y.push(target[i]!);
      times.push(rowTime(grid, i));
    }
  }
  return { features, target: y, times, dropped: { missingInputs, missingTarget, labelUnknown } };
}
