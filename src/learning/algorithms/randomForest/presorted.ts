import { createRandom } from '../../../domain/random.js';
import type { Implementation, ModelSpec, SerializedModel, TrainingData } from '../../algorithm.js';
import { createGrower, presort } from '../decisionTree/builder.js';
import type { CompactTree } from '../decisionTree/compact.js';
import { buildTreeModel, loadTreeModel } from '../decisionTree/model.js';
import { resolveMaxFeatures } from '../decisionTree/params.js';
import { treeTarget } from '../decisionTree/presorted.js';
import { toColumnMajor } from '../shared/data.js';
import { parseParams } from '../shared/params.js';
import { defaultForestMaxFeatures, forestParams } from './params.js';

const NAME = 'randomForest/presorted';

/**
 * Bagged trees on the default tree builder: the columns are sorted once and every tree reuses that order
 * (filtered to its bootstrap sample, whose counts become row weights, as scikit-learn does); each split
 * draws `maxFeatures` features. Prediction averages the trees' class probabilities or values.
 */
export const forestPresorted: Implementation = {
  name: 'presorted',
  tasks: ['classification', 'regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const parsed = parseParams(forestParams, spec.params, 'randomForest');
    const params = {
      ...parsed,
      maxFeatures:
        parsed.maxFeatures === undefined ? defaultForestMaxFeatures(spec.task) : parsed.maxFeatures,
      seed: parsed.seed ?? spec.seed ?? 0,
    };
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
    const random = createRandom(params.seed);
    const weights = new Float64Array(n);
    const trees: CompactTree[] = [];
    for (let t = 0; t < params.nEstimators; t++) {
      const treeRandom = createRandom(random.seed());
      if (params.bootstrap) {
        weights.fill(0);
        for (let i = 0; i < n; i++) weights[treeRandom.int(n)]! += 1;
        trees.push(grow(weights, treeRandom));
      } else {
        trees.push(grow(null, treeRandom));
      }
    }
    return buildTreeModel(trees, {
      algorithm: 'randomForest',
      implementation: 'presorted',
      task: spec.task,
      featureCount: p,
      params,
      classes,
    });
  },
  load: (serialized: SerializedModel) => loadTreeModel(serialized, forestParams, NAME),
};
