import { promotionMetric } from '../../domain/learning-pipeline/definition.js';
import { inputOf, pipelinePrincipal, type TaskFn } from './deps.js';

/**
 * Promote if better: the registered version against the deployed one on the same held-out rows (the
 * registry's comparison: the rows after both versions' training data, each built with its own
 * recipe), by the definition's metric; deployed only when it wins by at least `minImprovement`. The
 * first version of a model with none deployed is deployed.
 */
export const promoteTask: TaskFn = async (input, deps) => {
  const { modelId, promote, training } = input.definition;
  const version = Number(inputOf(input, 'register').version);
  const caller = {
    principal: pipelinePrincipal(input.pipelineId),
    commandId: `learningpipeline-${input.pipelineId}:${input.run}:${input.task.id}`,
  };
  const view = await deps.models.get(modelId);
  const deployed = view.context.deployedVersion;
  if (deployed === version) return { promoted: true, version, against: null, why: 'already deployed' };
  if (deployed === null) {
    await deps.models.promote(modelId, version, caller);
    return { promoted: true, version, against: null, why: 'the model had no deployed version' };
  }
  const { metric, higherIsBetter } = promotionMetric(promote, training.task);
  const cmp = await deps.models.compare(modelId, deployed, version);
  const a = cmp.a.metrics[metric] ?? null;
  const b = cmp.b.metrics[metric] ?? null;
  const margin = promote.minImprovement;
  const better =
    cmp.rows > 0 &&
    a !== null &&
    b !== null &&
    (higherIsBetter ? b > a && b - a >= margin : b < a && a - b >= margin);
  const why =
    cmp.rows === 0
      ? 'no held-out rows both versions can be scored on'
      : a === null || b === null
        ? `${metric} is not defined on the held-out rows`
        : better
          ? `${metric} ${b} beats ${a}`
          : `${metric} ${b} does not beat ${a}${margin ? ` by ${margin}` : ''}`;
  if (better) await deps.models.promote(modelId, version, caller);
  return {
    promoted: better,
    version,
    against: deployed,
    metric,
    deployed: a,
    candidate: b,
    rows: cmp.rows,
    from: cmp.from,
    to: cmp.to,
    why,
  };
};
