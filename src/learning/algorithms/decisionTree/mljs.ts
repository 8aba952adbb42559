import { type CartModel, DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import type { Matrix } from 'ml-matrix';
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
import { argmax, createFittedModel } from '../shared/fitted.js';
import { invalid, parseParams, parseState } from '../shared/params.js';
import { numbers } from '../shared/schemas.js';

/**
 * ml-cart's own options and defaults (it stops at 3 rows, and a classifier at a Gini gain of 0.01,
 * unlike scikit-learn). Its regression tree takes the children's summed squared error as its "gain" and
 * splits only while that exceeds `gainThreshold` (default 0): it never makes a split that leaves no error.
 */
export const cartParams = z.strictObject({
  maxDepth: z.number().int().min(1).nullable().default(null),
  /** A node with this many rows or fewer becomes a leaf. */
  minNumSamples: z.number().int().min(1).default(3),
  /** Classification: a split must gain more than this (default 0.01); regression: see above (default 0). */
  gainThreshold: z.number().min(0).nullable().default(null),
});
type CartParams = z.output<typeof cartParams>;

const stateSchema = z.strictObject({
  classes: numbers.nullable(),
  model: z.looseObject({
    name: z.enum(['DTClassifier', 'DTRegression']),
    options: z.object({}).loose(),
    root: z.object({}).loose(),
  }),
});
type CartState = z.output<typeof stateSchema>;

const NAME = 'decisionTree/mljs';

type Cart = DecisionTreeClassifier | DecisionTreeRegression;

function build(tree: Cart, state: CartState, task: Task, params: CartParams, p: number): FittedModel {
  const classes = state.classes;
  const common = {
    algorithm: 'decisionTree' as const,
    implementation: 'mljs',
    task,
    featureCount: p,
    params,
    state: () => state as unknown as JsonValue,
  };
  if (!classes) {
    return createFittedModel({
      ...common,
      predictOne: (row) => tree.root.classify(row as number[]) as number,
    });
  }
  const distribution = (row: readonly number[]): number[] =>
    (tree.root.classify(row as number[]) as Matrix).to1DArray();
  return createFittedModel({
    ...common,
    classes,
    predictOne: (row) => classes[argmax(distribution(row))]!,
    // A leaf's distribution is as long as its largest class index + 1; the rest are 0.
    probaInto: (row, out) => out.set(distribution(row).slice(0, classes.length)),
  });
}

export const treeMljs: Implementation = {
  name: 'mljs',
  tasks: ['classification', 'regression'],
  fit(data: TrainingData, spec: ModelSpec) {
    const params = parseParams(cartParams, spec.params, 'decisionTree');
    const options = {
      maxDepth: params.maxDepth ?? Number.POSITIVE_INFINITY,
      minNumSamples: params.minNumSamples,
      gainThreshold: params.gainThreshold ?? (spec.task === 'classification' ? 0.01 : 0),
    };
    const x = data.features.map((row) => Array.from(row));
    const p = x[0]!.length;
    let tree: Cart;
    let classes: number[] | null = null;
    if (spec.task === 'classification') {
      const encoded = encodeClasses(data.target);
      classes = encoded.classes;
      tree = new DecisionTreeClassifier(options);
      tree.train(x, Array.from(encoded.y));
    } else {
      tree = new DecisionTreeRegression(options);
      tree.train(x, Array.from(data.target));
    }
    // Its JSON holds Infinity (maxDepth) which JSON turns into null; the round trip keeps what loads.
    const model = JSON.parse(JSON.stringify(tree.toJSON())) as CartModel;
    const state = parseState(stateSchema, { classes, model }, NAME);
    return build(tree, state, spec.task, params, p);
  },
  load(serialized: SerializedModel) {
    const params = parseParams(cartParams, serialized.params, NAME);
    const state = parseState(stateSchema, serialized.state, NAME);
    const classification = serialized.task === 'classification';
    if (
      classification !== (state.model.name === 'DTClassifier') ||
      classification !== (state.classes !== null)
    ) {
      throw invalid('state.model.name', `not a ${serialized.task} tree`);
    }
    let tree: Cart;
    try {
      const model = structuredClone(state.model) as CartModel;
      tree = classification ? DecisionTreeClassifier.load(model) : DecisionTreeRegression.load(model);
    } catch (error) {
      throw invalid('state.model', `ml-cart could not load it: ${(error as Error).message}`);
    }
    return build(tree, state, serialized.task, params, serialized.featureCount);
  },
};
