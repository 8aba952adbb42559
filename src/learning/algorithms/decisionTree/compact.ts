import { z } from 'zod';
import { invalid } from '../shared/params.js';
import { integers, numbers } from '../shared/schemas.js';

/**
 * A fitted tree in a few typed arrays, nodes in depth-first order so that a node's left child is the
 * next node: prediction is a tight loop without allocation, and the JSON form is small.
 */
export interface CompactTree {
  /** Per node: the feature it splits on, or −1 for a leaf. */
  readonly feature: Int32Array;
  /** Per node: rows with `x[feature] <= threshold` go left (to node + 1); 0 for a leaf. */
  readonly threshold: Float64Array;
  /** Per node: the right child of a split, or the index of a leaf's values. */
  readonly next: Int32Array;
  /** Per leaf, `width` values: the weighted class counts (classification) or the mean (regression). */
  readonly values: Float64Array;
  readonly width: number;
  /** Per feature: the weighted impurity decrease of its splits (not normalised). */
  readonly importance: Float64Array;
}

export const compactTreeSchema = z.strictObject({
  feature: integers,
  threshold: numbers,
  next: integers,
  values: numbers,
  width: z.number().int().min(1),
  importance: numbers,
});
export type CompactTreeJson = z.output<typeof compactTreeSchema>;

export function treeToJson(tree: CompactTree): CompactTreeJson {
  return {
    feature: Array.from(tree.feature),
    threshold: Array.from(tree.threshold),
    next: Array.from(tree.next),
    values: Array.from(tree.values),
    width: tree.width,
    importance: Array.from(tree.importance),
  };
}

/** Checks the structure (so that every walk ends at a leaf) and rebuilds the typed arrays. */
export function treeFromJson(
  json: CompactTreeJson,
  featureCount: number,
  width: number,
  path: string,
): CompactTree {
  const nodes = json.feature.length;
  if (nodes === 0 || json.threshold.length !== nodes || json.next.length !== nodes) {
    throw invalid(path, 'feature, threshold and next must have one entry per node');
  }
  if (json.width !== width) throw invalid(`${path}.width`, `expected ${width}`);
  if (json.importance.length !== featureCount)
    throw invalid(`${path}.importance`, `expected ${featureCount}`);
  let leaves = 0;
  for (const f of json.feature) if (f < 0) leaves++;
  if (json.values.length !== leaves * width)
    throw invalid(`${path}.values`, `expected ${leaves * width} values`);
  for (let i = 0; i < nodes; i++) {
    const f = json.feature[i]!;
    const next = json.next[i]!;
    const ok =
      f < 0
        ? f === -1 && next >= 0 && next < leaves
        : f < featureCount && i + 1 < nodes && next > i + 1 && next < nodes;
    if (!ok) throw invalid(`${path}.next[${i}]`, 'not a well-formed tree');
  }
  return {
    feature: Int32Array.from(json.feature),
    threshold: Float64Array.from(json.threshold),
    next: Int32Array.from(json.next),
    values: Float64Array.from(json.values),
    width,
    importance: Float64Array.from(json.importance),
  };
}
