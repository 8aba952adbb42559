import { createRandom } from '../../../../src/domain/random.js';
import type { TrainingData } from '../../../../src/learning/algorithm.js';

/** Small seeded data sets for the algorithm tests. */

export function gaussian(random: ReturnType<typeof createRandom>): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/** Blobs of `perBlob` rows around each centre, labelled with `labels[i]` (defaults 0, 1, …). */
export function blobs(
  centres: readonly (readonly number[])[],
  perBlob: number,
  spread: number,
  seed: number,
  labels: readonly number[] = centres.map((_, i) => i),
): TrainingData {
  const random = createRandom(seed);
  const features: number[][] = [];
  const target: number[] = [];
  for (let i = 0; i < perBlob; i++) {
    centres.forEach((centre, c) => {
      features.push(centre.map((v) => v + spread * gaussian(random)));
      target.push(labels[c]!);
    });
  }
  return { features, target };
}

/** y = f(x) on uniform rows in [−1, 1]^p, plus optional noise. */
export function regression(
  rows: number,
  p: number,
  f: (x: readonly number[]) => number,
  seed: number,
  noise = 0,
): TrainingData {
  const random = createRandom(seed);
  const features = Array.from({ length: rows }, () => Array.from({ length: p }, () => 2 * random.next() - 1));
  return { features, target: features.map((x) => f(x) + noise * gaussian(random)) };
}

export const accuracy = (predicted: readonly number[], actual: readonly number[]) =>
  predicted.filter((v, i) => v === actual[i]).length / actual.length;

/** Deep-freezes the data so that a test fails if an implementation mutates its input. */
export function frozen(data: TrainingData): TrainingData {
  return Object.freeze({
    features: Object.freeze(data.features.map((row) => Object.freeze([...row]))),
    target: Object.freeze([...data.target]),
  });
}

export const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);
