import type { TrainingData } from '../algorithm.js';

/**
 * Rows as they cross to and from a worker: one flat Float64Array (row-major) whose buffer is
 * transferred, not copied.
 */
export interface WireRows {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float64Array;
}

export interface WireData {
  readonly x: WireRows;
  readonly target: Float64Array;
  readonly featureNames: readonly string[] | null;
}

export function packRows(rows: readonly (readonly number[])[]): WireRows {
  const cols = rows[0]?.length ?? 0;
  const values = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    values.set(row, i * cols);
  });
  return { rows: rows.length, cols, values };
}

export function unpackRows(wire: WireRows): number[][] {
  return Array.from({ length: wire.rows }, (_, i) =>
    Array.from(wire.values.subarray(i * wire.cols, (i + 1) * wire.cols)),
  );
}

export const packData = (data: TrainingData): WireData => ({
  x: packRows(data.features),
  target: Float64Array.from(data.target),
  featureNames: data.featureNames ? [...data.featureNames] : null,
});

export const unpackData = (wire: WireData): TrainingData => ({
  features: unpackRows(wire.x),
  target: Array.from(wire.target),
  ...(wire.featureNames ? { featureNames: wire.featureNames } : {}),
});

/** The buffers to transfer with a message holding these arrays. */
export const buffersOf = (...arrays: Float64Array[]): ArrayBuffer[] =>
  arrays.map((a) => a.buffer as ArrayBuffer);
