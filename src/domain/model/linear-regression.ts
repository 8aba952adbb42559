import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { Dataset, ModelEventOf } from './events.js';

/**
 * Fits ordinary least squares (mljs) and scores it on the training data. Pure: the same dataset
 * gives the same result, so a training run that is repeated after a crash records the same fact.
 */
export function fitLinearRegression(
  dataset: Dataset,
  version: number,
): ModelEventOf<'trainingSucceeded'> | ModelEventOf<'trainingFailed'> {
  const features = dataset.rows[0]!.length;
  if (dataset.rows.length <= features) {
    return {
      type: 'trainingFailed',
      reason: `need more rows (${dataset.rows.length}) than features (${features}) to fit a linear regression`,
    };
  }
  const regression = new MultivariateLinearRegression(
    dataset.rows,
    dataset.target.map((y) => [y]),
    { intercept: true, statistics: false },
  );
  const weights = regression.weights.slice(0, features).map((w) => w[0]!);
  const intercept = regression.weights[features]![0]!;
  if (![...weights, intercept].every(Number.isFinite)) {
    return {
      type: 'trainingFailed',
      reason: 'the fit did not converge to finite weights (collinear features?)',
    };
  }
  const predictions = dataset.rows.map((row) => row.reduce((sum, x, i) => sum + x * weights[i]!, intercept));
  const n = dataset.target.length;
  const mean = dataset.target.reduce((a, b) => a + b, 0) / n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (dataset.target[i]! - predictions[i]!) ** 2;
    sst += (dataset.target[i]! - mean) ** 2;
  }
  return {
    type: 'trainingSucceeded',
    version,
    metrics: { rmse: Math.sqrt(sse / n), r2: sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst, samples: n },
    artifact: { weights, intercept },
  };
}
