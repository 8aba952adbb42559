import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { z } from 'zod';
import type { JsonValue } from '../../../stores/event-store/port.js';
import type {
  FittedModel,
  Implementation,
  ModelSpec,
  SerializedModel,
  Task,
  TrainingData,
} from '../../algorithm.js';
import { encodeClasses } from '../shared/data.js';
import { createFittedModel } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers, seedSchema } from '../shared/schemas.js';

/**
 * ml-random-forest on ml-cart trees. Unlike scikit-learn it samples features once per tree (not per
 * split) and its classifier votes (not averages probabilities); bootstrap sampling is switched on here.
 */
export const mljsForestParams = z.strictObject({
  nEstimators: z.number().int().min(1).default(100),
  /** Features per tree: a fraction in (0, 1] (1 = all), or a whole number above 1. */
  maxFeatures: z.number().positive().default(1),
  bootstrap: z.boolean().default(true),
  /** ml-cart's options for each tree. */
  maxDepth: z.number().int().min(1).nullable().default(null),
  minNumSamples: z.number().int().min(1).default(3),
  /** As decisionTree/mljs: default 0.01 for classification, 0 for regression. */
  gainThreshold: z.number().min(0).nullable().default(null),
  seed: seedSchema.nullable().default(null),
});
type MljsForestParams = z.output<typeof mljsForestParams>;

const stateSchema = z.strictObject({
  classes: numbers.nullable(),
  importance: numbers,
  model: z.looseObject({ name: z.enum(['RFClassifier', 'RFRegression']), baseModel: z.object({}).loose() }),
});
type ForestState = z.output<typeof stateSchema>;
type Forest = RandomForestClassifier | RandomForestRegression;

const NAME = 'randomForest/mljs';

function build(
  forest: Forest,
  state: ForestState,
  task: Task,
  params: MljsForestParams,
  p: number,
): FittedModel {
  const { classes, importance } = state;
  const common = {
    algorithm: 'randomForest' as const,
    implementation: 'mljs',
    task,
    featureCount: p,
    params,
    featureImportance: () => [...importance],
    state: () => state as unknown as JsonValue,
  };
  if (!classes) return createFittedModel({ ...common, predictOne: (row) => forest.predict([[...row]])[0]! });
  return createFittedModel({
    ...common,
    classes,
    predictOne: (row) => classes[forest.predict([[...row]])[0]!]!,
    // The share of trees voting for each class.
    probaInto: (row, out) => {
      const votes = forest.predictionValues([[...row]]).getRow(0);
      for (const v of votes) out[v]! += 1 / votes.length;
    },
  });
}

export const forestMljs: Implementation = {
  name: 'mljs',
  tasks: ['classification', 'regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const parsed = parseParams(mljsForestParams, spec.params, 'randomForest');
    const params = { ...parsed, seed: parsed.seed ?? spec.seed ?? 0 };
    const x = data.features.map((row) => Array.from(row));
    const p = x[0]!.length;
    if (params.maxFeatures > 1 && (!Number.isInteger(params.maxFeatures) || params.maxFeatures > p)) {
      throw invalid('params.maxFeatures', `expected a fraction in (0, 1] or a whole number up to ${p}`);
    }
    const options = {
      nEstimators: params.nEstimators,
      maxFeatures: params.maxFeatures,
      replacement: false,
      useSampleBagging: params.bootstrap,
      noOOB: true,
      seed: params.seed | 0,
      treeOptions: {
        maxDepth: params.maxDepth ?? Number.POSITIVE_INFINITY,
        minNumSamples: params.minNumSamples,
        gainThreshold: params.gainThreshold ?? (spec.task === 'classification' ? 0.01 : 0),
      },
    };
    let forest: Forest;
    let classes: number[] | null = null;
    if (spec.task === 'classification') {
      const encoded = encodeClasses(data.target);
      classes = encoded.classes;
      forest = new RandomForestClassifier(options);
      forest.train(x, Array.from(encoded.y));
    } else {
      forest = new RandomForestRegression(options);
      forest.train(x, Array.from(data.target));
    }
    // Not in its type declarations, but public (and only usable right after training).
    const { featureImportance } = forest as unknown as { featureImportance(): number[] };
    const importance = featureImportance.call(forest).map((v) => (Number.isFinite(v) ? v : 0));
    const model = JSON.parse(JSON.stringify(forest.toJSON()));
    const state = parseState(stateSchema, { classes, importance, model }, NAME);
    return build(forest, state, spec.task, params, p);
  },
  load(serialized: SerializedModel) {
    const params = parseParams(mljsForestParams, serialized.params, NAME);
    const state = parseState(stateSchema, serialized.state, NAME);
    const classification = serialized.task === 'classification';
    if (
      classification !== (state.model.name === 'RFClassifier') ||
      classification !== (state.classes !== null)
    ) {
      throw invalid('state.model.name', `not a ${serialized.task} forest`);
    }
    if (state.importance.length !== serialized.featureCount)
      throw invalid('state.importance', 'wrong length');
    let forest: Forest;
    try {
      const model = structuredClone(state.model);
      forest = classification
        ? RandomForestClassifier.load(model as never)
        : RandomForestRegression.load(model as never);
    } catch (error) {
      throw invalid('state.model', `ml-random-forest could not load it: ${(error as Error).message}`);
    }
    return build(forest, state, serialized.task, params, serialized.featureCount);
  },
};
