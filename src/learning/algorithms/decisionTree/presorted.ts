import { createRandom } from '../../../domain/random.js';
import type { Implementation, ModelSpec, SerializedModel, TrainingData } from '../../algorithm.js';
import { encodeClasses, toColumnMajor } from '../shared/data.js';
import { parseParams } from '../shared/params.js';
import { createGrower, presort, type TreeTarget } from './builder.js';
import { buildTreeModel, loadTreeModel } from './model.js';
import { resolveMaxFeatures, treeParams } from './params.js';

/** The tree's target in the builder's form, and the class labels for classification. */
export function treeTarget(
  data: TrainingData,
  classification: boolean,
): { target: TreeTarget; classes: number[] | null } {
  if (!classification)
    return { target: { kind: 'regression', y: Float64Array.from(data.target) }, classes: null };
  const { classes, y } = encodeClasses(data.target);
  return { target: { kind: 'classification', y, classCount: classes.length }, classes };
}

const NAME = 'decisionTree/presorted';

export const treePresorted: Implementation = {
  name: 'presorted',
  tasks: ['classification', 'regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const parsed = parseParams(treeParams, spec.params, 'decisionTree');
    const params = { ...parsed, seed: parsed.seed ?? spec.seed ?? 0 };
    const n = data.features.length;
    const p = data.features[0]!.length;
    const { target, classes } = treeTarget(data, spec.task === 'classification');
    const columns = presort(toColumnMajor(data.features, p), n, p);
    const grow = createGrower(columns, target, {
      maxDepth: params.maxDepth ?? Number.POSITIVE_INFINITY,
      minSamplesSplit: params.minSamplesSplit,
      minSamplesLeaf: params.minSamplesLeaf,
      maxFeatures: resolveMaxFeatures(params.maxFeatures, p),
    });
    const tree = grow(null, createRandom(params.seed));
    return buildTreeModel([tree], {
      algorithm: 'decisionTree',
      implementation: 'presorted',
      task: spec.task,
      featureCount: p,
      params,
      classes,
    });
  },
  load: (serialized: SerializedModel) => loadTreeModel(serialized, treeParams, NAME),
};
