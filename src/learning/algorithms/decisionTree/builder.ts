import type { Random } from '../../../domain/random.js';
import type { CompactTree } from './compact.js';
import {
  FEATURE,
  FEATURE_THRESHOLD,
  LEFT_PURE,
  POSITION,
  PROXY,
  partition,
  RIGHT_PURE,
  scanGini,
  scanGiniBinary,
  scanSquaredError,
  THRESHOLD,
} from './splits.js';

/**
 * CART grown depth-first on pre-sorted columns, as scikit-learn's BestSplitter and DepthFirstTreeBuilder:
 * each feature is sorted once; a node is a range [start, end) of every feature's sorted row list, and a
 * split partitions those lists stably, so they stay sorted. A feature's thresholds are all evaluated in
 * one pass with running class counts (Gini) or running sums (squared error); thresholds are midpoints
 * between consecutive distinct values; rows with `x <= threshold` go left.
 */

/** Column-major features with each column's row order by value, computed once (and shared by a forest). */
export interface SortedColumns {
  readonly x: Float64Array;
  readonly order: Int32Array;
  readonly n: number;
  readonly p: number;
}

export type TreeTarget =
  | { readonly kind: 'classification'; readonly y: Int32Array; readonly classCount: number }
  | { readonly kind: 'regression'; readonly y: Float64Array };

export interface GrowOptions {
  readonly maxDepth: number;
  readonly minSamplesSplit: number;
  readonly minSamplesLeaf: number;
  /** Features drawn (without replacement) per split; constant ones do not count, as in scikit-learn. */
  readonly maxFeatures: number;
}

const EPSILON = Number.EPSILON;

export function presort(x: Float64Array, n: number, p: number): SortedColumns {
  const order = new Int32Array(n * p);
  const idx = new Int32Array(n);
  for (let j = 0; j < p; j++) {
    const col = x.subarray(j * n, (j + 1) * n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => col[a]! - col[b]! || a - b);
    order.set(idx, j * n);
  }
  return { x, order, n, p };
}

/**
 * Returns a function growing one tree per call, reusing its buffers. `weights` are per-row sample
 * weights (a forest's bootstrap counts; rows of weight 0 are left out), or null for all ones.
 */
export function createGrower(columns: SortedColumns, target: TreeTarget, options: GrowOptions) {
  const { x, n, p } = columns;
  const classification = target.kind === 'classification';
  const k = target.kind === 'classification' ? target.classCount : 1;
  const yClass = target.kind === 'classification' ? target.y : new Int32Array(0);
  const yValue = target.kind === 'regression' ? target.y : new Float64Array(0);
  const width = classification ? k : 1;
  const { maxDepth, minSamplesSplit, minSamplesLeaf: minLeaf } = options;
  const maxFeatures = Math.min(p, Math.max(1, options.maxFeatures));
  const minSplittable = Math.max(minSamplesSplit, 2 * minLeaf);

  const order = new Int32Array(n * p);
  const scratch = new Int32Array(n);
  const goesLeft = new Uint8Array(n);
  const ones = new Float64Array(n).fill(1);
  const features = new Int32Array(p);
  const nodeCounts = new Float64Array(k);
  const leftCounts = new Float64Array(k);
  const rightCounts = new Float64Array(k);
  const best = new Float64Array(6);
  const cap = 2 * n;
  const feature = new Int32Array(cap);
  const threshold = new Float64Array(cap);
  const next = new Int32Array(cap);
  const values = new Float64Array(n * width);
  // The stack of nodes to grow; `home` is a feature whose slice is known to hold the node's rows.
  const stackStart = new Int32Array(cap);
  const stackEnd = new Int32Array(cap);
  const stackDepth = new Int32Array(cap);
  const stackPatch = new Int32Array(cap);
  const stackParentFeature = new Int32Array(cap);
  const stackHome = new Int32Array(cap);

  return function grow(weightsOrNull: Float64Array | null, random: Random): CompactTree {
    const w = weightsOrNull ?? ones;
    let m = 0;
    if (weightsOrNull === null) {
      m = n;
      order.set(columns.order);
    } else {
      for (let i = 0; i < n; i++) if (w[i]! > 0) m++;
      for (let j = 0; j < p; j++) {
        let o = j * m;
        const base = j * n;
        for (let t = 0; t < n; t++) {
          const r = columns.order[base + t]!;
          if (w[r]! > 0) order[o++] = r;
        }
      }
    }
    for (let j = 0; j < p; j++) features[j] = j;
    const importance = new Float64Array(p);
    let nodeCount = 0;
    let leafCount = 0;
    stackStart[0] = 0;
    stackEnd[0] = m;
    stackDepth[0] = 0;
    stackPatch[0] = -1;
    stackParentFeature[0] = -1;
    stackHome[0] = 0;
    let top = 1;

    while (top > 0) {
      top--;
      const start = stackStart[top]!;
      const end = stackEnd[top]!;
      const depth = stackDepth[top]!;
      const patch = stackPatch[top]!;
      const parentFeature = stackParentFeature[top]!;
      const home = stackHome[top]! * m;
      const id = nodeCount++;
      if (patch >= 0) next[patch] = id;

      let weight = 0;
      let sum = 0;
      let sumSq = 0;
      let impurity: number;
      if (classification) {
        nodeCounts.fill(0);
        for (let t = home + start; t < home + end; t++) {
          const r = order[t]!;
          nodeCounts[yClass[r]!]! += w[r]!;
        }
        for (let c = 0; c < k; c++) {
          weight += nodeCounts[c]!;
          sumSq += nodeCounts[c]! * nodeCounts[c]!;
        }
        impurity = 1 - sumSq / (weight * weight);
      } else {
        for (let t = home + start; t < home + end; t++) {
          const r = order[t]!;
          const wr = w[r]!;
          const v = yValue[r]!;
          weight += wr;
          sum += wr * v;
          sumSq += wr * v * v;
        }
        const mean = sum / weight;
        impurity = Math.max(0, sumSq / weight - mean * mean);
      }
      if (parentFeature >= 0) importance[parentFeature]! -= weight * impurity;

      const samples = end - start;
      best[PROXY] = Number.NEGATIVE_INFINITY;
      best[FEATURE] = -1;
      if (depth < maxDepth && samples >= minSplittable && impurity > EPSILON) {
        let visited = 0;
        for (let t = 0; t < p && visited < maxFeatures; t++) {
          const s = t + random.int(p - t);
          const f = features[s]!;
          features[s] = features[t]!;
          features[t] = f;
          const ob = f * m;
          const col = f * n;
          if (x[col + order[ob + end - 1]!]! <= x[col + order[ob + start]!]! + FEATURE_THRESHOLD) continue;
          visited++;
          if (k === 2) {
            scanGiniBinary(
              order,
              ob,
              x,
              col,
              yClass,
              w,
              start,
              end,
              minLeaf,
              nodeCounts[1]!,
              weight,
              f,
              best,
            );
          } else if (classification) {
            scanGini(
              order,
              ob,
              x,
              col,
              yClass,
              w,
              start,
              end,
              minLeaf,
              nodeCounts,
              sumSq,
              weight,
              leftCounts,
              rightCounts,
              f,
              best,
            );
          } else {
            scanSquaredError(order, ob, x, col, yValue, w, start, end, minLeaf, sum, weight, f, best);
          }
        }
      }

      const bestFeature = best[FEATURE]!;
      if (bestFeature < 0) {
        feature[id] = -1;
        threshold[id] = 0;
        next[id] = leafCount;
        const base = leafCount * width;
        if (classification) values.set(nodeCounts, base);
        else values[base] = sum / weight;
        leafCount++;
        continue;
      }

      feature[id] = bestFeature;
      threshold[id] = best[THRESHOLD]!;
      importance[bestFeature]! += weight * impurity;
      const bestPos = best[POSITION]!;
      const nLeft = bestPos - start + 1;
      const nRight = samples - nLeft;
      // The split feature's slice is already in order for both children. The others are partitioned
      // only if a child may split again; a child that cannot reads its rows from the split feature's.
      const needed =
        depth + 1 < maxDepth &&
        ((nLeft >= minSplittable && best[LEFT_PURE] === 0) ||
          (nRight >= minSplittable && best[RIGHT_PURE] === 0));
      if (needed) {
        const sb = bestFeature * m;
        for (let i = start; i < end; i++) goesLeft[order[sb + i]!] = i <= bestPos ? 1 : 0;
        for (let j = 0; j < p; j++)
          if (j !== bestFeature) partition(order, j * m, start, end, goesLeft, scratch);
      }
      // Right first so that the left child is popped next and becomes node id + 1.
      stackStart[top] = start + nLeft;
      stackEnd[top] = end;
      stackDepth[top] = depth + 1;
      stackPatch[top] = id;
      stackParentFeature[top] = bestFeature;
      stackHome[top] = bestFeature;
      top++;
      stackStart[top] = start;
      stackEnd[top] = start + nLeft;
      stackDepth[top] = depth + 1;
      stackPatch[top] = -1;
      stackParentFeature[top] = bestFeature;
      stackHome[top] = bestFeature;
      top++;
    }

    for (let j = 0; j < p; j++) if (importance[j]! < 0) importance[j] = 0;
    return {
      feature: feature.slice(0, nodeCount),
      threshold: threshold.slice(0, nodeCount),
      next: next.slice(0, nodeCount),
      values: values.slice(0, leafCount * width),
      width,
      importance,
    };
  };
}
