import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { z } from 'zod';
import type { Implementation, ModelSpec, SerializedModel, TrainingData } from '../../algorithm.js';
import { createFittedModel, normalise } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers } from '../shared/schemas.js';

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
    const params = parseParams(linearParams, serialized.params, NAME);
    const state = parseState(stateSchema, serialized.state, NAME);
    const p = serialized.featureCount;
    if (state.coefficients.length !== p || state.importance.length !== p) {
      throw invalid('state.coefficients', `expected ${p} coefficients and importances`);
    }
    return build(state, params, p);
  },
};
