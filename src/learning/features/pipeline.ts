import { ValidationError } from '../../domain/errors.js';
import type { Task, TrainingData } from '../algorithm.js';
import { fitModel } from '../registry.js';
import { type FeaturePipelineSpec, MAX_EXPANDED_FEATURES, type SelectionStep } from './pipeline-spec.js';
import { absCorrelations, keepBest, variances } from './selection.js';

/**
 * A feature pipeline fitted on training rows (`fitFeatures`) and applied to any rows (`transform`):
 * expand, select, scale — every statistic taken from the training rows only, so that a model
 * evaluated on other rows never saw them. The fitted pipeline is plain JSON.
 */
export interface FittedFeatures {
  readonly format: 1;
  /** The names of the features a row must have, in order. */
  readonly inputNames: readonly string[];
  readonly polynomial: { readonly interactionOnly: boolean } | null;
  /** Indices into the expanded features of those kept, in order. */
  readonly keep: readonly number[];
  /** The names of the features `transform` answers. */
  readonly names: readonly string[];
  /** `(x − center) / scale` per kept feature; null: not scaled. */
  readonly scaler: {
    readonly kind: 'standard' | 'minmax';
    readonly center: readonly number[];
    readonly scale: readonly number[];
  } | null;
  /** What each selection step kept and dropped (by name), in order. */
  readonly selection: readonly {
    readonly kind: SelectionStep['kind'];
    readonly kept: number;
    readonly dropped: readonly string[];
  }[];
}

function invalid(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
}

const columnsOf = (rows: readonly (readonly number[])[], width: number): Float64Array[] =>
  Array.from({ length: width }, (_, j) => Float64Array.from(rows, (r) => r[j]!));

/** Each column, then (degree 2) for i ≤ j (i < j: interactions only) the product of columns i and j. */
function expandNames(names: readonly string[], poly: FittedFeatures['polynomial']): string[] {
  if (!poly) return [...names];
  const out = [...names];
  for (let i = 0; i < names.length; i++)
    for (let j = poly.interactionOnly ? i + 1 : i; j < names.length; j++)
      out.push(i === j ? `${names[i]}^2` : `${names[i]}*${names[j]}`);
  return out;
}

function expandColumns(cols: readonly Float64Array[], poly: FittedFeatures['polynomial']): Float64Array[] {
  if (!poly) return [...cols];
  const out = [...cols];
  for (let i = 0; i < cols.length; i++)
    for (let j = poly.interactionOnly ? i + 1 : i; j < cols.length; j++)
      out.push(cols[i]!.map((v, r) => v * cols[j]![r]!));
  return out;
}

function select(
  step: SelectionStep,
  cols: readonly Float64Array[],
  names: readonly string[],
  data: TrainingData,
  task: Task,
  seed: number,
  path: string,
): number[] {
  if (step.kind === 'variance') return variances(cols).flatMap((v, i) => (v > step.threshold ? [i] : []));
  if (data.target.length !== data.features.length) invalid(path, `${step.kind} selection needs a target`);
  if (step.kind === 'correlation')
    return keepBest(absCorrelations(cols, data.target), step.topK, step.threshold);
  const rows = Array.from({ length: data.features.length }, (_, r) => cols.map((c) => c[r]!));
  const model = fitModel(
    { features: rows, target: data.target, featureNames: names },
    {
      algorithm: step.algorithm,
      task,
      ...(step.implementation ? { implementation: step.implementation } : {}),
      ...(step.params ? { params: step.params } : {}),
      seed: step.seed ?? seed,
    },
  );
  const importance = model.featureImportance?.();
  if (!importance) invalid(`${path}.algorithm`, `${step.algorithm} gives no feature importance`);
  return keepBest(importance, step.topK, step.threshold);
}

/** Fits the pipeline on training rows. `path` names the pipeline's field in errors. */
export function fitFeatures(
  train: TrainingData,
  spec: FeaturePipelineSpec,
  context: { task: Task; seed: number; path?: string },
): FittedFeatures {
  const path = context.path ?? 'features';
  const width = train.features[0]?.length ?? 0;
  const inputNames = train.featureNames
    ? [...train.featureNames]
    : Array.from({ length: width }, (_, i) => `x${i}`);
  const polynomial = spec.polynomial ? { interactionOnly: spec.polynomial.interactionOnly } : null;
  let names = expandNames(inputNames, polynomial);
  if (names.length > MAX_EXPANDED_FEATURES)
    invalid(`${path}.polynomial`, `would make ${names.length} features, more than ${MAX_EXPANDED_FEATURES}`);
  let cols = expandColumns(columnsOf(train.features, width), polynomial);
  let keep = names.map((_, i) => i);
  const selection: { kind: SelectionStep['kind']; kept: number; dropped: string[] }[] = [];
  for (const [s, step] of spec.select.entries()) {
    const kept = select(step, cols, names, train, context.task, context.seed, `${path}.select.${s}`);
    if (!kept.length) invalid(`${path}.select.${s}`, 'keeps no feature');
    const keptSet = new Set(kept);
    selection.push({ kind: step.kind, kept: kept.length, dropped: names.filter((_, i) => !keptSet.has(i)) });
    keep = kept.map((i) => keep[i]!);
    names = kept.map((i) => names[i]!);
    cols = kept.map((i) => cols[i]!);
  }
  let scaler: FittedFeatures['scaler'] = null;
  if (spec.scale !== 'none') {
    const center: number[] = [];
    const scale: number[] = [];
    for (const x of cols) {
      if (spec.scale === 'standard') {
        const mean = x.reduce((a, v) => a + v, 0) / (x.length || 1);
        const std = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / (x.length || 1));
        center.push(mean);
        scale.push(std > 0 ? std : 1);
      } else {
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        for (const v of x) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        center.push(Number.isFinite(lo) ? lo : 0);
        scale.push(hi > lo ? hi - lo : 1);
      }
    }
    scaler = { kind: spec.scale, center, scale };
  }
  return { format: 1, inputNames, polynomial, keep, names, scaler, selection };
}

/** Applies a fitted pipeline to rows as wide as its inputs. */
export function transform(fitted: FittedFeatures, rows: readonly (readonly number[])[]): number[][] {
  const width = fitted.inputNames.length;
  const poly = fitted.polynomial;
  return rows.map((row, r) => {
    if (row.length !== width) invalid(`rows.${r}`, `has ${row.length} features, the pipeline takes ${width}`);
    const expanded = poly ? [...row] : row;
    if (poly)
      for (let i = 0; i < width; i++)
        for (let j = poly.interactionOnly ? i + 1 : i; j < width; j++)
          (expanded as number[]).push(row[i]! * row[j]!);
    const out = fitted.keep.map((k) => expanded[k]!);
    if (fitted.scaler) {
      const { center, scale } = fitted.scaler;
      for (let j = 0; j < out.length; j++) out[j] = (out[j]! - center[j]!) / scale[j]!;
    }
    return out;
  });
}

/** Whether a pipeline does nothing (no expansion, selection or scaling): its rows pass as they are. */
export const isIdentity = (spec: FeaturePipelineSpec) =>
  !spec.polynomial && spec.select.length === 0 && spec.scale === 'none';
