import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { z } from 'zod';
import type {
  Implementation,
  ModelSpec,
  SerializedModel,
  TrainingData,
  UpdateOptions,
} from '../../algorithm.js';
import { createFittedModel, normalise } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers } from '../shared/schemas.js';
import { epochsOf, gradientRate, NORMALISED_EPSILON } from '../shared/update.js';

/** scikit-learn's LinearRegression (ridgeAlpha 0) or Ridge (ridgeAlpha > 0), both with fit_intercept=True. */
export const linearParams = z.strictObject({
  /** L2 penalty on the coefficients (not on the intercept); 0 = ordinary least squares. */
  ridgeAlpha: z.number().min(0).default(0),
  fitIntercept: z.boolean().default(true),
});
export type LinearParams = z.output<typeof linearParams>;

const stateSchema = z.strictObject({ coefficients: numbers, intercept: z.number(), importance: numbers });
type LinearState = z.output<typeof stateSchema>;

const NAME = 'linearRegression/mljs';

function columnStats(rows: readonly (readonly number[])[], p: number): { mean: number[]; sd: number[] } {
  const n = rows.length;
  const mean = new Array<number>(p).fill(0);
  const sq = new Array<number>(p).fill(0);
  for (const row of rows) for (let j = 0; j < p; j++) mean[j]! += row[j]! / n;
  for (const row of rows) {
    for (let j = 0; j < p; j++) {
      const d = row[j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  return { mean, sd: sq.map((s) => Math.sqrt(s / n)) };
}

/** Ridge in closed form, as scikit-learn: centre X and y, solve (XᵀX + αI)w = Xᵀy, intercept = ȳ − x̄·w. */
function fitRidge(data: TrainingData, p: number, alpha: number, fitIntercept: boolean, mean: number[]) {
  const n = data.features.length;
  const xMean = fitIntercept ? mean : new Array<number>(p).fill(0);
  let yMean = 0;
  if (fitIntercept) for (const v of data.target) yMean += v / n;
  const gram = new Float64Array(p * p);
  const xty = new Float64Array(p);
  const centred = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = data.features[i]!;
    for (let j = 0; j < p; j++) centred[j] = row[j]! - xMean[j]!;
    const yi = data.target[i]! - yMean;
    for (let j = 0; j < p; j++) {
      const cj = centred[j]!;
      xty[j]! += cj * yi;
      for (let k = j; k < p; k++) gram[j * p + k]! += cj * centred[k]!;
    }
  }
  const a = new Matrix(p, p);
  for (let j = 0; j < p; j++) {
    for (let k = j; k < p; k++) {
      a.set(j, k, gram[j * p + k]!);
      a.set(k, j, gram[j * p + k]!);
    }
    a.set(j, j, a.get(j, j) + alpha);
  }
  const w = new CholeskyDecomposition(a).solve(Matrix.columnVector(Array.from(xty))).to1DArray();
  let intercept = yMean;
  for (let j = 0; j < p; j++) intercept -= xMean[j]! * w[j]!;
  return { coefficients: w, intercept };
}

function fitOls(data: TrainingData, p: number, fitIntercept: boolean) {
  const y = data.target.map((v) => [v]);
  const x = data.features.map((row) => Array.from(row));
  const mlr = new MultivariateLinearRegression(x, y, { intercept: fitIntercept, statistics: false });
  const coefficients = mlr.weights.slice(0, p).map((w) => w[0]!);
  const intercept = fitIntercept ? mlr.weights[p]![0]! : 0;
  return { coefficients, intercept };
}

/**
 * Normalised least-mean-squares: per row, in order, w += μ·e·x / (ε + ‖x‖² + 1), the 1 being the
 * intercept's constant input. Dividing by the row's squared norm bounds the step: the row's own error
 * shrinks by the factor (1 − μ), so it is stable for μ in (0, 2) whatever the features' scales, where
 * plain SGD needs a rate tuned to them (a feature of scale 1e4 makes it diverge at once). Stable is not
 * fast: the step goes mostly to the largest features, so a small-scaled feature (or the intercept next
 * to large ones) learns slowly, and μ near 2 overshoots from row to row. Standardised features (the
 * pipeline's scaler) and a μ well below 1 track best.
 */
function nlms(
  state: LinearState,
  data: TrainingData,
  p: number,
  fitIntercept: boolean,
  rate: number,
  epochs: number,
): { coefficients: number[]; intercept: number } {
  const w = Float64Array.from(state.coefficients);
  let intercept = state.intercept;
  const bias = fitIntercept ? 1 : 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < data.features.length; i++) {
      const row = data.features[i]!;
      let predicted = intercept;
      let norm = bias;
      for (let j = 0; j < p; j++) {
        predicted += w[j]! * row[j]!;
        norm += row[j]! * row[j]!;
      }
      const step = (rate * (data.target[i]! - predicted)) / (NORMALISED_EPSILON + norm);
      for (let j = 0; j < p; j++) w[j]! += step * row[j]!;
      intercept += step * bias;
    }
  }
  return { coefficients: Array.from(w), intercept };
}

function build(state: LinearState, params: LinearParams, p: number) {
  const coefficients = Float64Array.from(state.coefficients);
  const { intercept, importance } = state;
  return createFittedModel({
    algorithm: 'linearRegression',
    implementation: 'mljs',
    task: 'regression',
    featureCount: p,
    params,
    predictOne: (row) => {
      let s = intercept;
      for (let j = 0; j < p; j++) s += coefficients[j]! * row[j]!;
      return s;
    },
    featureImportance: () => [...importance],
    state: () => state,
  });
}

/** A serialised model's params and state, checked against its width. */
function parseModel(serialized: SerializedModel): { params: LinearParams; state: LinearState; p: number } {
  const params = parseParams(linearParams, serialized.params, NAME);
  const state = parseState(stateSchema, serialized.state, NAME);
  const p = serialized.featureCount;
  if (state.coefficients.length !== p || state.importance.length !== p) {
    throw invalid('state.coefficients', `expected ${p} coefficients and importances`);
  }
  return { params, state, p };
}

export const linearMljs: Implementation = {
  name: 'mljs',
  tasks: ['regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const params = parseParams(linearParams, spec.params, 'linearRegression');
    const p = data.features[0]!.length;
    const { mean, sd } = columnStats(data.features, p);
    const fitted =
      params.ridgeAlpha > 0
        ? fitRidge(data, p, params.ridgeAlpha, params.fitIntercept, mean)
        : fitOls(data, p, params.fitIntercept);
    if (!fitted.coefficients.every(Number.isFinite) || !Number.isFinite(fitted.intercept)) {
      throw new Error(`${NAME}: the solve did not give finite coefficients`);
    }
    // |standardised coefficient|: the change in prediction for one standard deviation of the feature.
    const importance = normalise(fitted.coefficients.map((c, j) => Math.abs(c * sd[j]!)));
    return build({ ...fitted, importance }, params, p);
  },
  load(serialized: SerializedModel) {
    const { params, state, p } = parseModel(serialized);
    return build(state, params, p);
  },
  /**
   * Normalised LMS steps from the current coefficients (see `nlms`); the ridge penalty is not applied
   * (a stream has no fixed n to weigh it against). Importance is taken again from |coef·sd| over the
   * batch, as fit takes it over its rows; a batch with no spread (one row) keeps the old importance.
   */
  update(serialized: SerializedModel, data: TrainingData, options: UpdateOptions) {
    const { params, state, p } = parseModel(serialized);
    const rate = gradientRate(options);
    const epochs = epochsOf(options);
    const moved = nlms(state, data, p, params.fitIntercept, rate, epochs);
    if (!moved.coefficients.every(Number.isFinite) || !Number.isFinite(moved.intercept)) {
      throw new Error(`${NAME}: the update did not give finite coefficients`);
    }
    const { sd } = columnStats(data.features, p);
    const importance = sd.some((v) => v > 0)
      ? normalise(moved.coefficients.map((c, j) => Math.abs(c * sd[j]!)))
      : state.importance;
    return build({ ...moved, importance }, params, p);
  },
};
