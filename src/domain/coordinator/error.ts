/**
 * The one error measure the coordinator judges a model by, whatever its task: RMSE for regression,
 * 1 − F1 for classification (1 − accuracy when F1 is not defined, e.g. no positive rows), lower being
 * better; null for clustering, which has no truth to be wrong against.
 */
export type ModelTask = 'regression' | 'classification' | 'clustering';

export function errorOf(
  task: ModelTask,
  metrics: Readonly<Record<string, number | null | undefined>>,
): number | null {
  if (task === 'regression') return metrics.rmse ?? null;
  if (task === 'classification') {
    const score = metrics.f1 ?? metrics.accuracy ?? null;
    return score === null ? null : 1 - score;
  }
  return null;
}

/** What `errorOf` measures, as the coordinator's evidence names it. */
export const errorName = (task: ModelTask): string =>
  task === 'regression' ? 'rmse' : task === 'classification' ? '1 - f1' : 'none';
