import { ConflictError } from '../../domain/errors.js';
import { Algorithm, Artifact, type Metrics } from '../../domain/model/events.js';
import { trainingSpecFor } from '../spec.js';
import { inputOf, pipelinePrincipal, type TaskFn } from './deps.js';

/**
 * Register: the trained version into the model registry (`versionRegistered` in the model's stream,
 * with the window's recipe and the holdout metrics), registering the model itself first if it does
 * not exist. While the model runs a training of its own the registration is refused, and retried.
 */
export const registerTask: TaskFn = async (input, deps) => {
  const built = inputOf(input, 'features');
  const trained = inputOf(input, 'train');
  const evaluated = inputOf(input, 'evaluate');
  const { definition, window, pipelineId, run } = input;
  const spec = trainingSpecFor(definition, window);
  const caller = (step: string) => ({
    principal: pipelinePrincipal(pipelineId),
    commandId: `learningpipeline-${pipelineId}:${run}:${input.task.id}:${step}`,
  });
  if (!(await deps.models.find(definition.modelId)))
    await deps.models.register(
      definition.modelId,
      {
        name: definition.modelId,
        description: definition.description ?? `trained by learning pipeline ${pipelineId}`,
        spec,
      },
      caller('model'),
    );
  const dataset = spec.dataset.fromSeries as { from: number; to: number; stepMs: number };
  const series = built.series as { column: string; seriesId: string; name: string }[];
  const trainRows = Number(trained.trainRows);
  const testRows = Number(trained.testRows);
  try {
    const made = await deps.models.registerVersion(
      definition.modelId,
      {
        algorithm: Algorithm.parse(trained.algorithm),
        implementation: String(trained.implementation),
        params: trained.params,
        featureNames: built.featureNames as string[],
        data: {
          source: 'series',
          series: series.slice(0, 100),
          from: window.from,
          to: window.to,
          stepMs: dataset.stepMs,
          rows: trainRows + testRows,
          trainRows,
          testRows,
          trainedUntil: Number(trained.trainedUntil),
          hash: String(built.hash),
        },
        evaluation: { method: 'holdout', testRows, metrics: evaluated.metrics as Metrics },
        trainMs: Number(trained.trainMs),
        artifact: Artifact.parse(trained.artifact),
        spec,
        source: { pipelineId, run },
        updatedFrom: (trained.updatedFrom as number | null) ?? null,
      },
      caller('version'),
    );
    return { modelId: definition.modelId, version: made.version, existed: made.existed };
  } catch (error) {
    if (error instanceof ConflictError)
      throw new Error(`model ${definition.modelId} refused the version (${error.message}); tried again`);
    throw error;
  }
};
