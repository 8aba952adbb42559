import { createRandom } from '../../src/domain/random.js';

/** A seeded generator (the product's own), so a failing run can be repeated from its seed. */
export function seeded(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}
