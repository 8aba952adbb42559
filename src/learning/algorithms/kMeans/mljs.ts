import { kmeans } from 'ml-kmeans';
import { z } from 'zod';
import { createRandom } from '../../../domain/random.js';
import type {
  FittedModel,
  Implementation,
  ModelSpec,
  SerializedModel,
  TrainingData,
  UpdateOptions,
} from '../../algorithm.js';
import { createFittedModel } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { matrix, seedSchema } from '../shared/schemas.js';
import { epochsOf } from '../shared/update.js';

/**
 * scikit-learn's KMeans defaults: 8 clusters, greedy k-means++ seeding, at most 300 Lloyd iterations,
 * tol 1e-4 relative to the mean feature variance, and one run (n_init='auto' with k-means++).
 */
export const kMeansParams = z.strictObject({
  k: z.number().int().min(1).default(8),
  maxIter: z.number().int().min(1).default(300),
  /** Runs from different seeds; the one with the lowest inertia is kept. */
  nInit: z.number().int().min(1).default(1),
  tol: z.number().min(0).default(1e-4),
  seed: seedSchema.nullable().default(null),
});
type KMeansParams = z.output<typeof kMeansParams>;

const stateSchema = z.strictObject({
  centres: matrix.min(1),
  /** On the rows it was fitted or last updated on. */
  inertia: z.number().min(0),
  /**
   * Rows each centre has absorbed (fit: its cluster's size; each update adds its rows): the weight of
   * the centre against a new row in a mini-batch update. Absent in models serialised before updates.
   */
  counts: z.array(z.number().int().min(0)).optional(),
});
type KMeansState = z.output<typeof stateSchema>;

const NAME = 'kMeans/mljs';

function meanVariance(rows: number[][], p: number): number {
  const n = rows.length;
  let total = 0;
  for (let j = 0; j < p; j++) {
    let mean = 0;
    for (const row of rows) mean += row[j]! / n;
    let ss = 0;
    for (const row of rows) ss += (row[j]! - mean) ** 2;
    total += ss / n;
  }
  return total / p;
}

/** The index of the nearest centre (squared Euclidean; the first on a tie), or its squared distance. */
function nearest(
  centres: Float64Array,
  k: number,
  p: number,
  row: readonly number[],
  distance: boolean,
): number {
  let index = 0;
  let best = Number.POSITIVE_INFINITY;
  for (let c = 0; c < k; c++) {
    let d = 0;
    const base = c * p;
    for (let j = 0; j < p && d < best; j++) {
      const t = row[j]! - centres[base + j]!;
      d += t * t;
    }
    if (d < best) {
      best = d;
      index = c;
    }
  }
  return distance ? best : index;
}

function flatten(centres: readonly (readonly number[])[], p: number): Float64Array {
  const flat = new Float64Array(centres.length * p);
  centres.forEach((centre, c) => {
    flat.set(centre, c * p);
  });
  return flat;
}

/** Each row's nearest centre, and the sum of the squared distances (the inertia). */
function assign(
  centres: Float64Array,
  k: number,
  p: number,
  rows: readonly (readonly number[])[],
): { nearestOf: Int32Array; inertia: number } {
  const nearestOf = Int32Array.from(rows, (row) => nearest(centres, k, p, row, false));
  let inertia = 0;
  for (const row of rows) inertia += nearest(centres, k, p, row, true);
  return { nearestOf, inertia };
}

/** Rows per centre. */
function countsOf(nearestOf: Int32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const c of nearestOf) counts[c]!++;
  return counts;
}

/**
 * Mini-batch k-means (Sculley 2010, "Web-scale k-means clustering"): per pass, each row is assigned
 * to the nearest centre as the centres stood before the pass; then, row by row in order, its centre's
 * count grows by one and the centre moves by 1/count toward the row, so that a centre is the running
 * mean of every row it absorbed. A `floor` (the options' learningRate) keeps the step from shrinking
 * below it: old rows are then forgotten exponentially and a centre follows a cluster that drifts.
 *
 * A model serialised without counts starts each centre's count at the number of the batch's rows it
 * is assigned (at least 1): the old centre weighs as much as the new rows that reach it, neither thrown
 * away (counts of 1 would replace it with the batch's mean) nor allowed to dominate (its true count is
 * unknown).
 */
function miniBatch(
  state: KMeansState,
  rows: readonly (readonly number[])[],
  p: number,
  epochs: number,
  floor: number,
): KMeansState {
  const k = state.centres.length;
  const centres = flatten(state.centres, p);
  const counts =
    state.counts ?? countsOf(assign(centres, k, p, rows).nearestOf, k).map((n) => Math.max(1, n));
  for (let epoch = 0; epoch < epochs; epoch++) {
    const { nearestOf } = assign(centres, k, p, rows);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const c = nearestOf[i]!;
      counts[c]!++;
      const step = Math.max(1 / counts[c]!, floor);
      const base = c * p;
      for (let j = 0; j < p; j++) centres[base + j]! += step * (row[j]! - centres[base + j]!);
    }
  }
  const moved = Array.from({ length: k }, (_, c) => Array.from(centres.subarray(c * p, (c + 1) * p)));
  return { centres: moved, inertia: assign(centres, k, p, rows).inertia, counts };
}

/** k-means' learningRate is a floor on the 1/count step: a fraction of the way to the row, in (0, 1]. */
function stepFloor(options: UpdateOptions): number {
  const rate = options.learningRate;
  if (rate === undefined) return 0;
  if (!(rate > 0 && rate <= 1)) {
    throw invalid('options.learningRate', `expected a smallest step in (0, 1] for k-means, got ${rate}`);
  }
  return rate;
}

/** A serialised model's params and state, checked against its width. */
function parseModel(serialized: SerializedModel): { params: KMeansParams; state: KMeansState } {
  const params = parseParams(kMeansParams, serialized.params, NAME);
  const state = parseState(stateSchema, serialized.state, NAME);
  if (state.centres.some((c) => c.length !== serialized.featureCount)) {
    throw invalid('state.centres', `expected ${serialized.featureCount} coordinates per centre`);
  }
  if (state.counts && state.counts.length !== state.centres.length) {
    throw invalid('state.counts', `expected one count per centre (${state.centres.length})`);
  }
  return { params, state };
}

function build(state: KMeansState, params: KMeansParams, p: number): FittedModel {
  const k = state.centres.length;
  const centres = flatten(state.centres, p);
  return createFittedModel({
    algorithm: 'kMeans',
    implementation: 'mljs',
    task: 'clustering',
    featureCount: p,
    params,
    predictOne: (row) => nearest(centres, k, p, row, false),
    state: () => state,
  });
}

export const kMeansMljs: Implementation = {
  name: 'mljs',
  tasks: ['clustering'],
  fit(data: TrainingData, spec: ModelSpec) {
    const parsed = parseParams(kMeansParams, spec.params, 'kMeans');
    const params = { ...parsed, seed: parsed.seed ?? spec.seed ?? 0 };
    const rows = data.features.map((row) => Array.from(row));
    const p = rows[0]!.length;
    if (params.k > rows.length)
      throw invalid('params.k', `expected at most ${rows.length} (the number of rows)`);
    const tolerance = params.tol * meanVariance(rows, p);
    const random = createRandom(params.seed);
    let best: KMeansState | null = null;
    for (let run = 0; run < params.nInit; run++) {
      const result = kmeans(rows, params.k, {
        initialization: 'kmeans++',
        maxIterations: params.maxIter,
        tolerance,
        seed: random.seed(),
      });
      const centres = result.centroids.map((c) => Array.from(c));
      if (!centres.every((centre) => centre.every(Number.isFinite))) {
        throw new Error(`${NAME}: clustering gave non-finite centres (fewer distinct rows than k?)`);
      }
      const { nearestOf, inertia } = assign(flatten(centres, p), params.k, p, rows);
      if (best === null || inertia < best.inertia) {
        best = { centres, inertia, counts: countsOf(nearestOf, params.k) };
      }
    }
    return build(best!, params, p);
  },
  load(serialized: SerializedModel) {
    const { params, state } = parseModel(serialized);
    return build(state, params, serialized.featureCount);
  },
  /** Mini-batch k-means from the current centres (see `miniBatch`); inertia is taken on the batch. */
  update(serialized: SerializedModel, data: TrainingData, options: UpdateOptions) {
    const { params, state } = parseModel(serialized);
    const p = serialized.featureCount;
    const moved = miniBatch(state, data.features, p, epochsOf(options), stepFloor(options));
    return build(moved, params, p);
  },
};
