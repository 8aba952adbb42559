import { kmeans } from 'ml-kmeans';
import { z } from 'zod';
import { createRandom } from '../../../domain/random.js';
import type {
  FittedModel,
  Implementation,
  ModelSpec,
  SerializedModel,
  TrainingData,
} from '../../algorithm.js';
import { createFittedModel } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { matrix, seedSchema } from '../shared/schemas.js';

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

const stateSchema = z.strictObject({ centres: matrix.min(1), inertia: z.number().min(0) });
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

function build(state: KMeansState, params: KMeansParams, p: number): FittedModel {
  const k = state.centres.length;
  const centres = new Float64Array(k * p);
  state.centres.forEach((centre, c) => {
    centres.set(centre, c * p);
  });
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
      const flat = new Float64Array(params.k * p);
      centres.forEach((centre, c) => {
        flat.set(centre, c * p);
      });
      let inertia = 0;
      for (const row of rows) inertia += nearest(flat, params.k, p, row, true);
      if (!centres.every((centre) => centre.every(Number.isFinite))) {
        throw new Error(`${NAME}: clustering gave non-finite centres (fewer distinct rows than k?)`);
      }
      if (best === null || inertia < best.inertia) best = { centres, inertia };
    }
    return build(best!, params, p);
  },
  load(serialized: SerializedModel) {
    const params = parseParams(kMeansParams, serialized.params, NAME);
    const state = parseState(stateSchema, serialized.state, NAME);
    if (state.centres.some((c) => c.length !== serialized.featureCount)) {
      throw invalid('state.centres', `expected ${serialized.featureCount} coordinates per centre`);
    }
    return build(state, params, serialized.featureCount);
  },
};
