import type { JsonValue } from '../../../stores/event-store/port.js';
import type { AlgorithmName, FittedModel, SerializedModel, Task } from '../../algorithm.js';
import { invalid } from './params.js';

type Row = readonly number[];

/** What an implementation supplies; `createFittedModel` adds batching, width checks and serialisation. */
export interface ModelParts {
  readonly algorithm: AlgorithmName;
  readonly implementation: string;
  readonly task: Task;
  readonly featureCount: number;
  readonly params: JsonValue;
  readonly classes?: readonly number[];
  /** A class label, a value or a cluster index; the row's width is already checked. */
  predictOne(row: Row): number;
  /** Classification: writes the probability of each class (in `classes` order) into `out`. */
  probaInto?(row: Row, out: Float64Array): void;
  featureImportance?(): number[];
  /** The implementation's fitted state as JSON (built when asked, not at fit time). */
  state(): JsonValue;
}

export function createFittedModel(parts: ModelParts): FittedModel {
  const p = parts.featureCount;
  const checkRow = (row: Row, i?: number): void => {
    if (row.length !== p) {
      throw invalid(i === undefined ? 'row' : `rows[${i}]`, `expected ${p} features, got ${row.length}`);
    }
  };
  const predictOne = (row: Row): number => {
    checkRow(row);
    return parts.predictOne(row);
  };
  const model: FittedModel = {
    algorithm: parts.algorithm,
    implementation: parts.implementation,
    task: parts.task,
    featureCount: p,
    ...(parts.classes ? { classes: Object.freeze([...parts.classes]) } : {}),
    predict: (rows) => {
      const out = new Array<number>(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        checkRow(row, i);
        out[i] = parts.predictOne(row);
      }
      return out;
    },
    predictOne,
    serialize: (): SerializedModel => ({
      format: 1,
      algorithm: parts.algorithm,
      implementation: parts.implementation,
      task: parts.task,
      params: parts.params,
      featureCount: p,
      state: parts.state(),
    }),
  };
  const { probaInto, featureImportance } = parts;
  if (probaInto && parts.classes) {
    const k = parts.classes.length;
    const buffer = new Float64Array(k);
    Object.assign(model, {
      predictProba: (rows: readonly Row[]): number[][] =>
        rows.map((row, i) => {
          checkRow(row, i);
          buffer.fill(0);
          probaInto(row, buffer);
          return Array.from(buffer);
        }),
    });
  }
  if (featureImportance) Object.assign(model, { featureImportance: () => featureImportance() });
  return Object.freeze(model);
}

/** Index of the largest value (the first one on ties, as numpy's argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Divides by the sum (all zeros stay zeros). */
export function normalise(values: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return Array.from(values, (v) => (sum > 0 ? v / sum : 0));
}
