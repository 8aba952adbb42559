import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../src/domain/random.js';

describe('createRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 5 }, () => random.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draws floats in [0, 1) and integers in [0, n), roughly uniformly', () => {
    const random = createRandom(1);
    const counts = [0, 0, 0, 0];
    let min = 1;
    let max = 0;
    for (let i = 0; i < 40_000; i++) {
      const v = random.next();
      min = Math.min(min, v);
      max = Math.max(max, v);
      counts[random.int(4)]! += 1;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('derives reproducible 32-bit sub-stream seeds', () => {
    const a = createRandom(3);
    const b = createRandom(3);
    const seeds = [a.seed(), a.seed()];
    expect([b.seed(), b.seed()]).toEqual(seeds);
    for (const s of seeds) expect(s >>> 0).toBe(s);
  });
});
