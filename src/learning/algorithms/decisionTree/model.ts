import { z } from 'zod';
import type { JsonValue } from '../../../stores/event-store/port.js';
import type { AlgorithmName, FittedModel, SerializedModel, Task } from '../../algorithm.js';
import { argmax, createFittedModel, normalise } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers } from '../shared/schemas.js';
import { type CompactTree, compactTreeSchema, treeFromJson, treeToJson } from './compact.js';

/** A single tree or a forest of them (averaged), in the compact form. */
export const treesState = z.strictObject({
  classes: numbers.nullable(),
  trees: z.array(compactTreeSchema).min(1),
});
export type TreesState = z.output<typeof treesState>;

interface Meta {
  readonly algorithm: AlgorithmName;
  readonly implementation: string;
  readonly task: Task;
  readonly featureCount: number;
  readonly params: JsonValue;
  /** Classification: the labels, ascending. */
  readonly classes: readonly number[] | null;
}

/** Each leaf's class probabilities (its weighted counts normalised). */
function leafProbabilities(tree: CompactTree): Float64Array {
  const k = tree.width;
  const out = new Float64Array(tree.values.length);
  for (let leaf = 0; leaf * k < out.length; leaf++) {
    let total = 0;
    for (let c = 0; c < k; c++) total += tree.values[leaf * k + c]!;
    for (let c = 0; c < k; c++) out[leaf * k + c] = total > 0 ? tree.values[leaf * k + c]! / total : 1 / k;
  }
  return out;
}

/** Mean of the trees' normalised importances (trees that never split left out, as scikit-learn). */
function importanceOf(trees: readonly CompactTree[], p: number): number[] {
  const mean = new Float64Array(p);
  for (const tree of trees) {
    const own = normalise(tree.importance);
    for (let j = 0; j < p; j++) mean[j]! += own[j]!;
  }
  return normalise(mean);
}

/**
 * All trees' nodes interleaved in one buffer for prediction, 16 bytes per node: the feature (−1 for a
 * leaf) and the right child (or, for a leaf, the offset of its values in `leaves`) as int32, then the
 * threshold as float64. One cache line per visited node instead of three, which matters for a forest's
 * hundred walks; nodes are addressed by their int32 index (4 per node).
 */
interface FlatTrees {
  readonly ints: Int32Array;
  readonly thresholds: Float64Array;
  readonly roots: Int32Array;
  readonly leaves: Float64Array;
}

function flatten(trees: readonly CompactTree[], leafValues: (tree: CompactTree) => Float64Array): FlatTrees {
  const total = trees.reduce((s, t) => s + t.feature.length, 0);
  const perTree = trees.map(leafValues);
  const buffer = new ArrayBuffer(total * 16);
  const ints = new Int32Array(buffer);
  const thresholds = new Float64Array(buffer);
  const roots = new Int32Array(trees.length);
  const leaves = new Float64Array(perTree.reduce((s, v) => s + v.length, 0));
  let nodeOffset = 0;
  let leafOffset = 0;
  trees.forEach((tree, t) => {
    roots[t] = nodeOffset * 4;
    const values = perTree[t]!;
    const leafCount = tree.values.length / tree.width;
    const width = leafCount > 0 ? values.length / leafCount : 0;
    for (let i = 0; i < tree.feature.length; i++) {
      const node = nodeOffset + i;
      const f = tree.feature[i]!;
      ints[node * 4] = f;
      ints[node * 4 + 1] = f < 0 ? leafOffset + tree.next[i]! * width : (nodeOffset + tree.next[i]!) * 4;
      thresholds[node * 2 + 1] = f < 0 ? 0 : tree.threshold[i]!;
    }
    leaves.set(values, leafOffset);
    nodeOffset += tree.feature.length;
    leafOffset += values.length;
  });
  return { ints, thresholds, roots, leaves };
}

/** The offset in `leaves` of the values of the leaf a row falls in, walking from `root`. */
function walk(ints: Int32Array, thresholds: Float64Array, root: number, row: readonly number[]): number {
  let i = root;
  let f = ints[i]!;
  while (f >= 0) {
    i = row[f]! <= thresholds[(i >> 1) + 1]! ? i + 4 : ints[i + 1]!;
    f = ints[i]!;
  }
  return ints[i + 1]!;
}

/**
 * Walks every tree for one row, four at a time in lockstep so that their independent memory loads
 * overlap, and writes each tree's leaf offset into `out`.
 */
function walkAll(flat: FlatTrees, row: readonly number[], out: Int32Array): void {
  const { ints, thresholds, roots } = flat;
  const count = roots.length;
  let t = 0;
  for (; t + 4 <= count; t += 4) {
    let a = roots[t]!;
    let b = roots[t + 1]!;
    let c = roots[t + 2]!;
    let d = roots[t + 3]!;
    let fa = ints[a]!;
    let fb = ints[b]!;
    let fc = ints[c]!;
    let fd = ints[d]!;
    // Until all four are at a leaf (a leaf's feature is −1: the AND keeps the sign bit only then).
    while ((fa & fb & fc & fd) >= 0) {
      if (fa >= 0) {
        a = row[fa]! <= thresholds[(a >> 1) + 1]! ? a + 4 : ints[a + 1]!;
        fa = ints[a]!;
      }
      if (fb >= 0) {
        b = row[fb]! <= thresholds[(b >> 1) + 1]! ? b + 4 : ints[b + 1]!;
        fb = ints[b]!;
      }
      if (fc >= 0) {
        c = row[fc]! <= thresholds[(c >> 1) + 1]! ? c + 4 : ints[c + 1]!;
        fc = ints[c]!;
      }
      if (fd >= 0) {
        d = row[fd]! <= thresholds[(d >> 1) + 1]! ? d + 4 : ints[d + 1]!;
        fd = ints[d]!;
      }
    }
    out[t] = ints[a + 1]!;
    out[t + 1] = ints[b + 1]!;
    out[t + 2] = ints[c + 1]!;
    out[t + 3] = ints[d + 1]!;
  }
  for (; t < count; t++) out[t] = walk(ints, thresholds, roots[t]!, row);
}

export function buildTreeModel(trees: readonly CompactTree[], meta: Meta): FittedModel {
  const p = meta.featureCount;
  const classes = meta.classes;
  const count = trees.length;
  const importance = importanceOf(trees, p);
  const state = (): JsonValue => ({ classes: classes ? [...classes] : null, trees: trees.map(treeToJson) });
  const base = {
    algorithm: meta.algorithm,
    implementation: meta.implementation,
    task: meta.task,
    featureCount: p,
    params: meta.params,
    featureImportance: () => [...importance],
    state,
  };
  if (!classes) {
    const flat = flatten(trees, (tree) => tree.values);
    const offsets = new Int32Array(count);
    return createFittedModel({
      ...base,
      predictOne: (row) => {
        walkAll(flat, row, offsets);
        let s = 0;
        for (let t = 0; t < count; t++) s += flat.leaves[offsets[t]!]!;
        return s / count;
      },
    });
  }
  const k = classes.length;
  const flat = flatten(trees, leafProbabilities);
  const offsets = new Int32Array(count);
  const probaInto = (row: readonly number[], out: Float64Array): void => {
    walkAll(flat, row, offsets);
    for (let t = 0; t < count; t++) {
      const off = offsets[t]!;
      for (let c = 0; c < k; c++) out[c]! += flat.leaves[off + c]!;
    }
    if (count > 1) for (let c = 0; c < k; c++) out[c]! /= count;
  };
  let predictOne: (row: readonly number[]) => number;
  if (count === 1) {
    // One tree: each leaf's majority class, one number per leaf.
    const only = flatten(trees, (tree) =>
      Float64Array.from({ length: tree.values.length / k }, (_, leaf) =>
        argmax(tree.values.subarray(leaf * k, leaf * k + k)),
      ),
    );
    predictOne = (row) => classes[only.leaves[walk(only.ints, only.thresholds, 0, row)]!]!;
  } else {
    const sums = new Float64Array(k);
    predictOne = (row) => {
      sums.fill(0);
      probaInto(row, sums);
      return classes[argmax(sums)]!;
    };
  }
  return createFittedModel({ ...base, classes, predictOne, probaInto });
}

export function treesFromState(state: TreesState, task: Task, featureCount: number): CompactTree[] {
  if ((task === 'classification') !== (state.classes !== null)) {
    throw invalid('state.classes', task === 'classification' ? 'expected the class labels' : 'expected null');
  }
  if (state.classes !== null && state.classes.length < 2)
    throw invalid('state.classes', 'expected 2 classes at least');
  const width = state.classes?.length ?? 1;
  return state.trees.map((tree, i) => treeFromJson(tree, featureCount, width, `state.trees[${i}]`));
}

/**
 * A serialised tree model (one tree, or a forest of them) loaded back: its params checked with the
 * algorithm's schema, its trees rebuilt from their compact form.
 */
export function loadTreeModel(
  serialized: SerializedModel,
  paramsSchema: z.ZodType,
  owner: string,
): FittedModel {
  const params = parseParams(paramsSchema, serialized.params, owner) as JsonValue;
  const state = parseState(treesState, serialized.state, owner);
  return buildTreeModel(treesFromState(state, serialized.task, serialized.featureCount), {
    algorithm: serialized.algorithm,
    implementation: serialized.implementation,
    task: serialized.task,
    featureCount: serialized.featureCount,
    params,
    classes: state.classes,
  });
}
