import type { TrainingData } from '../algorithm.js';

/** Why rows were left out of a dataset: counted, never dropped silently. */
export interface DroppedRows {
  /** A feature (a bucket without samples, or a lag / window / difference reaching before the range). */
  readonly missingInputs: number;
  /** The target series had no sample in the bucket the row's target comes from (or it lies past `to`). */
  readonly missingTarget: number;
  /** The label's horizon reaches past now: a fact may still come, so the label is not known yet. */
  readonly labelUnknown: number;
}

/** One series that became a column, and the column's name. */
export interface DatasetSeries {
  readonly column: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Rows of numbers ready to fit on, with where they came from and what was left out. */
export interface Dataset extends TrainingData {
  readonly features: number[][];
  readonly target: number[];
  readonly featureNames: string[];
  /** Each row's time (ms): the end of its bucket, when every input is known. Null for inline rows. */
  readonly times: number[] | null;
  /** Rows considered (buckets of the range, or inline rows); `features.length` of them were kept. */
  readonly candidates: number;
  readonly dropped: DroppedRows;
  /** The series behind the columns (empty for inline rows). */
  readonly series: readonly DatasetSeries[];
  /** What the target is: `label` (0/1 from stored facts), `series`, `inline` or `none`. */
  readonly targetKind: 'label' | 'series' | 'inline' | 'none';
}

export const NO_DROPS: DroppedRows = { missingInputs: 0, missingTarget: 0, labelUnknown: 0 };

export const droppedTotal = (d: DroppedRows) => d.missingInputs + d.missingTarget + d.labelUnknown;

/**
 * How many rows have each target value, when the target looks like class labels (whole numbers, at
 * most `maxClasses` of them); null otherwise. Ascending by label.
 */
export function classCounts(
  target: readonly number[],
  maxClasses = 50,
): { label: number; count: number }[] | null {
  const counts = new Map<number, number>();
  for (const y of target) {
    if (!Number.isInteger(y)) return null;
    counts.set(y, (counts.get(y) ?? 0) + 1);
    if (counts.size > maxClasses) return null;
  }
  return [...counts.entries()].sort(([a], [b]) => a - b).map(([label, count]) => ({ label, count }));
}
