/**
 * The inner loops of the tree builder: evaluating every threshold of one feature over a node's rows in
 * sorted order (one pass, running counts or sums), and partitioning a feature's sorted rows between the
 * children. Kept apart from the builder's bookkeeping; all allocation-free.
 */

/** scikit-learn's FEATURE_THRESHOLD: values closer than this are not split between. */
export const FEATURE_THRESHOLD = 1e-7;

/** The best split found so far at a node: [proxy, feature, position, threshold, left pure, right pure]. */
export const PROXY = 0;
export const FEATURE = 1;
export const POSITION = 2;
export const THRESHOLD = 3;
export const LEFT_PURE = 4;
export const RIGHT_PURE = 5;

function record(best: Float64Array, proxy: number, f: number, i: number, xi: number, xn: number): void {
  best[PROXY] = proxy;
  best[FEATURE] = f;
  best[POSITION] = i;
  let threshold = xi / 2 + xn / 2;
  if (threshold === xn || !Number.isFinite(threshold)) threshold = xi;
  best[THRESHOLD] = threshold;
}

/**
 * Every Gini split of feature `f` over the node's rows in sorted order: maximises scikit-learn's proxy
 * Σ(left counts²)/wL + Σ(right counts²)/wR, i.e. minimises the weighted children's impurity.
 */
export function scanGini(
  order: Int32Array,
  ob: number,
  x: Float64Array,
  col: number,
  y: Int32Array,
  w: Float64Array,
  start: number,
  end: number,
  minLeaf: number,
  nodeCounts: Float64Array,
  nodeSq: number,
  weight: number,
  leftCounts: Float64Array,
  rightCounts: Float64Array,
  f: number,
  best: Float64Array,
): void {
  leftCounts.fill(0);
  rightCounts.set(nodeCounts);
  let sqL = 0;
  let sqR = nodeSq;
  let wL = 0;
  let wR = weight;
  const samples = end - start;
  let r = order[ob + start]!;
  let xi = x[col + r]!;
  for (let i = start; i < end - 1; i++) {
    const c = y[r]!;
    const wi = w[r]!;
    const cl = leftCounts[c]!;
    sqL += wi * (2 * cl + wi);
    leftCounts[c] = cl + wi;
    const cr = rightCounts[c]!;
    sqR += wi * (wi - 2 * cr);
    rightCounts[c] = cr - wi;
    wL += wi;
    wR -= wi;
    const rn = order[ob + i + 1]!;
    const xn = x[col + rn]!;
    const nL = i - start + 1;
    if (nL >= minLeaf) {
      if (samples - nL < minLeaf) break;
      if (xn > xi + FEATURE_THRESHOLD) {
        const proxy = sqL / wL + sqR / wR;
        if (proxy > best[PROXY]!) {
          record(best, proxy, f, i, xi, xn);
          best[LEFT_PURE] = sqL === wL * wL ? 1 : 0;
          best[RIGHT_PURE] = sqR === wR * wR ? 1 : 0;
        }
      }
    }
    r = rn;
    xi = xn;
  }
}

/** `scanGini` for two classes: the counts are two numbers (class 1's weight and the total), no arrays. */
export function scanGiniBinary(
  order: Int32Array,
  ob: number,
  x: Float64Array,
  col: number,
  y: Int32Array,
  w: Float64Array,
  start: number,
  end: number,
  minLeaf: number,
  nodeOnes: number,
  weight: number,
  f: number,
  best: Float64Array,
): void {
  let onesL = 0;
  let wL = 0;
  const samples = end - start;
  let r = order[ob + start]!;
  let xi = x[col + r]!;
  for (let i = start; i < end - 1; i++) {
    const wi = w[r]!;
    onesL += wi * y[r]!;
    wL += wi;
    const rn = order[ob + i + 1]!;
    const xn = x[col + rn]!;
    const nL = i - start + 1;
    if (nL >= minLeaf) {
      if (samples - nL < minLeaf) break;
      if (xn > xi + FEATURE_THRESHOLD) {
        const wR = weight - wL;
        const onesR = nodeOnes - onesL;
        const zerosL = wL - onesL;
        const zerosR = wR - onesR;
        const sqL = zerosL * zerosL + onesL * onesL;
        const sqR = zerosR * zerosR + onesR * onesR;
        const proxy = sqL / wL + sqR / wR;
        if (proxy > best[PROXY]!) {
          record(best, proxy, f, i, xi, xn);
          best[LEFT_PURE] = zerosL === 0 || onesL === 0 ? 1 : 0;
          best[RIGHT_PURE] = zerosR === 0 || onesR === 0 ? 1 : 0;
        }
      }
    }
    r = rn;
    xi = xn;
  }
}

/** Every squared-error split of feature `f`: maximises sumL²/wL + sumR²/wR (scikit-learn's proxy). */
export function scanSquaredError(
  order: Int32Array,
  ob: number,
  x: Float64Array,
  col: number,
  y: Float64Array,
  w: Float64Array,
  start: number,
  end: number,
  minLeaf: number,
  sum: number,
  weight: number,
  f: number,
  best: Float64Array,
): void {
  let sL = 0;
  let sR = sum;
  let wL = 0;
  let wR = weight;
  const samples = end - start;
  let r = order[ob + start]!;
  let xi = x[col + r]!;
  for (let i = start; i < end - 1; i++) {
    const wi = w[r]!;
    const wy = wi * y[r]!;
    sL += wy;
    sR -= wy;
    wL += wi;
    wR -= wi;
    const rn = order[ob + i + 1]!;
    const xn = x[col + rn]!;
    const nL = i - start + 1;
    if (nL >= minLeaf) {
      if (samples - nL < minLeaf) break;
      if (xn > xi + FEATURE_THRESHOLD) {
        const proxy = (sL * sL) / wL + (sR * sR) / wR;
        if (proxy > best[PROXY]!) {
          record(best, proxy, f, i, xi, xn);
          best[LEFT_PURE] = 0;
          best[RIGHT_PURE] = 0;
        }
      }
    }
    r = rn;
    xi = xn;
  }
}

/** Stably moves the rows marked in `goesLeft` to the front of [start, end) in feature j's slice. */
export function partition(
  order: Int32Array,
  ob: number,
  start: number,
  end: number,
  goesLeft: Uint8Array,
  scratch: Int32Array,
): void {
  let l = ob + start;
  let rc = 0;
  // Branch-free: write both ways and advance one (the side is unpredictable, a branch would miss half).
  for (let i = ob + start; i < ob + end; i++) {
    const r = order[i]!;
    const left = goesLeft[r]!;
    order[l] = r;
    scratch[rc] = r;
    l += left;
    rc += 1 - left;
  }
  order.set(scratch.subarray(0, rc), l);
}
