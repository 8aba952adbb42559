import { modelSpecOf } from '../../actors/model.training.js';
import type { Artifact } from '../../domain/model/events.js';
import type { ModelVersion } from '../../domain/model/state.js';
import { FeaturePipelineSpec } from '../../learning/features/pipeline-spec.js';
import type { FitResult } from '../../learning/pool/jobs.js';
import { buffersOf, packData } from '../../learning/pool/wire.js';
import { canUpdate } from '../../learning/registry.js';
import { inputOf, type TaskDeps, type TaskFn } from './deps.js';
import { loadRows } from './features.js';

/** The version a realtime run moves on: the deployed one, else the latest. */
async function baseVersion(deps: TaskDeps, modelId: string): Promise<ModelVersion | null> {
  const view = await deps.models.find(modelId);
  if (!view) return null;
  const { versions, deployedVersion } = view.context;
  return versions.find((v) => v.version === deployedVersion) ?? versions.at(-1) ?? null;
}

const sameColumns = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((name, i) => name === b[i]);

/**
 * Train: fit on the earlier rows of the window (the later `testFraction` held out, in time order), in
 * the worker pool. A realtime pipeline whose algorithm learns incrementally moves its model's current
 * version on by the new rows instead (stochastic gradient steps, mini-batch k-means), when that version
 * was made from the same columns; otherwise it fits from scratch and says why.
 */
export const trainTask: TaskFn = async (input, deps, signal) => {
  const built = inputOf(input, 'features');
  const rows = loadRows(deps.blobs, built.blob);
  const { training, mode, modelId } = input.definition;
  const n = rows.features.length;
  const testRows = Math.max(1, Math.round(n * training.testFraction));
  const trainRows = n - testRows;
  if (trainRows < 2) throw new Error(`too few rows to train and hold out (${n} rows)`);
  const train = {
    features: rows.features.slice(0, trainRows),
    target: training.task === 'clustering' ? [] : rows.target.slice(0, trainRows),
    featureNames: rows.featureNames,
  };
  const data = packData(train);
  let fit: FitResult;
  let updatedFrom: number | null = null;
  let fitFromScratch: string | null = null;
  const base = mode === 'realtime' ? await baseVersion(deps, modelId) : null;
  if (mode === 'realtime' && !canUpdate(training.algorithm, training.implementation))
    fitFromScratch = `${training.algorithm} does not learn incrementally`;
  else if (mode === 'realtime' && !base) fitFromScratch = 'the model has no version to update yet';
  else if (base && !sameColumns(base.featureNames, rows.featureNames))
    fitFromScratch = 'the current version was made from other columns';
  if (base && fitFromScratch === null) {
    const stored = deps.artifacts.load(base.artifact);
    fit = await deps.pool.run<'update'>(
      {
        kind: 'update',
        model: stored.model,
        features: stored.features,
        data,
        options: training.learningRate === undefined ? {} : { learningRate: training.learningRate },
      },
      buffersOf(data.x.values, data.target),
      undefined,
      signal,
    );
    updatedFrom = base.version;
  } else {
    const spec = modelSpecOf(training);
    fit = await deps.pool.run<'fit'>(
      { kind: 'fit', data, spec, features: FeaturePipelineSpec.parse(training.features) },
      buffersOf(data.x.values, data.target),
      undefined,
      signal,
    );
  }
  const artifact: Artifact = deps.artifacts.save({ model: fit.model, features: fit.features });
  return {
    artifact,
    algorithm: fit.model.algorithm,
    implementation: fit.model.implementation,
    params: fit.model.params,
    trainRows,
    testRows,
    trainMs: fit.trainMs,
    trainedUntil: rows.times[trainRows - 1]!,
    updatedFrom,
    fitFromScratch: mode === 'realtime' ? fitFromScratch : null,
    featureImportance: fit.featureImportance,
  };
};
