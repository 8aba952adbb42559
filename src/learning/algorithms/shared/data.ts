/** Dense layouts of the training rows and the small statistics several algorithms share. */

type Rows = readonly (readonly number[])[];

/** Rows as one row-major block: row i, feature j at `i * p + j`. */
export function toRowMajor(rows: Rows, p: number): Float64Array {
  const out = new Float64Array(rows.length * p);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const base = i * p;
    for (let j = 0; j < p; j++) out[base + j] = row[j]!;
  }
  return out;
}

/** Rows as one column-major block: feature j, row i at `j * n + i`. */
export function toColumnMajor(rows: Rows, p: number): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (let j = 0; j < p; j++) out[j * n + i] = row[j]!;
  }
  return out;
}

export interface EncodedClasses {
  /** The distinct labels, ascending (as scikit-learn's `classes_`). */
  readonly classes: number[];
  /** Each row's class index into `classes`. */
  readonly y: Int32Array;
}

export function encodeClasses(target: readonly number[]): EncodedClasses {
  const classes = [...new Set(target)].sort((a, b) => a - b);
  const index = new Map(classes.map((label, i) => [label, i]));
  const y = new Int32Array(target.length);
  for (let i = 0; i < target.length; i++) y[i] = index.get(target[i]!)!;
  return { classes, y };
}

/** Per-feature mean and scale as scikit-learn's StandardScaler: population std, 1 for a constant feature. */
export interface Standardiser {
  readonly mean: Float64Array;
  readonly scale: Float64Array;
}

export function fitStandardiser(x: Float64Array, n: number, p: number): Standardiser {
  const mean = new Float64Array(p);
  const scale = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let j = 0; j < p; j++) mean[j]! += x[base + j]!;
  }
  for (let j = 0; j < p; j++) mean[j]! /= n;
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const d = x[base + j]! - mean[j]!;
      scale[j]! += d * d;
    }
  }
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt(scale[j]! / n);
    // scikit-learn treats a (near-)zero variance as 1 so that the feature stays 0 after centring.
    scale[j] = sd < 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j]!)) ? 1 : sd;
  }
  return { mean, scale };
}

/** Standardises a row-major block in place. */
export function standardiseInPlace(x: Float64Array, n: number, p: number, s: Standardiser): void {
  for (let i = 0; i < n; i++) {
    const base = i * p;
    for (let j = 0; j < p; j++) x[base + j] = (x[base + j]! - s.mean[j]!) / s.scale[j]!;
  }
}
