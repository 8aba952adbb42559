/** The learning algorithms by name: what a model's facts may name, and what the learning core fits. */
export const ALGORITHM_NAMES = [
  'linearRegression',
  'logisticRegression',
  'decisionTree',
  'randomForest',
  'kMeans',
  'holtWinters',
] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];
