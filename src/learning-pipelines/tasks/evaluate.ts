import { scoreTask } from '../../actors/model.training.js';
import { nameStates } from '../../domain/learning-pipeline/states.js';
import { Artifact } from '../../domain/model/events.js';
import { buffersOf, packRows } from '../../learning/pool/wire.js';
import { inputOf, type TaskDeps, type TaskFn } from './deps.js';
import { loadRows } from './features.js';

async function predict(
  deps: TaskDeps,
  artifact: Artifact,
  rows: number[][],
  signal: AbortSignal,
): Promise<number[]> {
  if (!rows.length) return [];
  const stored = deps.artifacts.load(artifact);
  const packed = packRows(rows);
  const { predictions } = await deps.pool.run<'predict'>(
    { kind: 'predict', model: stored.model, features: stored.features, rows: packed },
    buffersOf(packed.values),
    undefined,
    signal,
  );
  return [...predictions];
}

/**
 * Evaluate: the trained model on the held-out later rows of the window, with its task's metrics. A
 * clustering model's states are also named by their centres (over every row of the window).
 */
export const evaluateTask: TaskFn = async (input, deps, signal) => {
  const rows = loadRows(deps.blobs, inputOf(input, 'features').blob);
  const trained = inputOf(input, 'train');
  const artifact = Artifact.parse(trained.artifact);
  const trainRows = Number(trained.trainRows);
  const { task } = input.definition.training;
  const holdout = rows.features.slice(trainRows);
  if (task === 'clustering') {
    const assigned = await predict(deps, artifact, rows.features, signal);
    const metrics = scoreTask(task, holdout, [], assigned.slice(trainRows));
    return {
      metrics,
      testRows: holdout.length,
      states: nameStates(rows.featureNames, rows.features, assigned),
    };
  }
  const predicted = await predict(deps, artifact, holdout, signal);
  const truth = rows.target.slice(trainRows);
  const metrics = scoreTask(task, holdout, truth, predicted);
  return {
    metrics,
    testRows: holdout.length,
    ...(task === 'classification' ? { positives: truth.filter((v) => v === 1).length } : {}),
  };
};
