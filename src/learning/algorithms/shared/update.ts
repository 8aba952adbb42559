import { DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE, type UpdateOptions } from '../../algorithm.js';
import { invalid } from './params.js';

/** The options of an incremental update, as the learners read them (the registry checked their types). */

/**
 * The step of a normalised gradient update (divided by ‖x‖² + 1): it shrinks the row's error by the
 * factor (1 − rate), so only a rate in (0, 2) is stable.
 */
export function gradientRate(options: UpdateOptions): number {
  const rate = options.learningRate ?? DEFAULT_LEARNING_RATE;
  if (!(rate > 0 && rate < 2)) {
    throw invalid('options.learningRate', `expected a step in (0, 2) for normalised updates, got ${rate}`);
  }
  return rate;
}

export const epochsOf = (options: UpdateOptions): number => options.epochs ?? DEFAULT_EPOCHS;

/** Keeps a zero-norm row (no intercept, all features 0) from dividing by zero; it moves nothing anyway. */
export const NORMALISED_EPSILON = 1e-12;
