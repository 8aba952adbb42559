import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  type Direction,
  dominates,
  feasible,
  grid,
  optimum,
  paretoFront,
  randomSettings,
  valuesOf,
} from '../../../../src/domain/recommendations/search.js';

/** The front by definition: every candidate that no other candidate dominates, O(n²). */
const bruteForce = (cs: readonly Candidate[], directions: readonly Direction[]) =>
  cs.filter((c) => !cs.some((o) => o !== c && dominates(o, c, directions)));

const key = (c: Candidate) => JSON.stringify([c.settings, c.predicted]);
const sortedKeys = (cs: readonly Candidate[]) => cs.map(key).sort();

describe('parameter search', () => {
  it('enumerates a grid of ranges and lists, the first parameter slowest', () => {
    expect(valuesOf({ name: 'a', min: 0.1, max: 0.3, step: 0.1 })).toEqual([0.1, 0.2, 0.3]);
    expect(
      grid([
        { name: 'batch', values: [8, 16] },
        { name: 'replicas', min: 1, max: 3, step: 1 },
      ]),
    ).toEqual([
      [8, 1],
      [8, 2],
      [8, 3],
      [16, 1],
      [16, 2],
      [16, 3],
    ]);
    expect(() => grid([{ name: 'a', min: 0, max: 1 }])).toThrow(/min, max and step/);
  });

  it('draws the same random settings for the same seed, within the ranges', () => {
    const ps = [
      { name: 'a', min: 0, max: 10 },
      { name: 'b', values: [1, 2, 4] },
    ];
    const a = randomSettings(ps, 50, 7);
    expect(randomSettings(ps, 50, 7)).toEqual(a);
    expect(randomSettings(ps, 50, 8)).not.toEqual(a);
    for (const [x, y] of a) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(10);
      expect([1, 2, 4]).toContain(y);
    }
  });

  it('applies parameter and objective constraints and finds the optimum', () => {
    const cs: Candidate[] = [
      { settings: [1], predicted: [300] },
      { settings: [2], predicted: [150] },
      { settings: [3], predicted: [120] },
    ];
    const ok = cs.filter((c) =>
      feasible(
        c,
        [
          { on: 'latency', op: 'le', value: 200 },
          { on: 'replicas', op: 'le', value: 2 },
        ],
        ['replicas'],
        ['latency'],
      ),
    );
    expect(ok).toEqual([cs[1]]);
    expect(optimum(cs, 'minimize')).toBe(cs[2]);
    expect(optimum(cs, 'maximize')).toBe(cs[0]);
    expect(optimum([], 'minimize')).toBeNull();
  });

  it('gives the Pareto front of a grid as a brute-force enumeration of the same grid does', () => {
    // latency falls with replicas and rises with batch; cost rises with replicas.
    const settings = grid([
      { name: 'batch', values: [1, 2, 4, 8] },
      { name: 'replicas', min: 1, max: 6, step: 1 },
    ]);
    const cs = settings.map(([b, r]) => ({
      settings: [b!, r!],
      predicted: [100 + 5 * b! + 120 / r!, 3 * r! + 0.5 * b!],
    }));
    const front = paretoFront(cs);
    expect(sortedKeys(front)).toEqual(sortedKeys(bruteForce(cs, ['minimize', 'minimize'])));
    expect(front.every((c) => c.settings[0] === 1)).toBe(true);
    expect(front).toHaveLength(6);
    // The front is ordered by the first objective.
    for (let i = 1; i < front.length; i++)
      expect(front[i]!.predicted[0]!).toBeGreaterThanOrEqual(front[i - 1]!.predicted[0]!);
  });

  it('agrees with brute force for any candidates and directions (ties included)', () => {
    const direction = fc.constantFrom<Direction>('minimize', 'maximize');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), { maxLength: 40 }),
        direction,
        direction,
        (points, d0, d1) => {
          const cs = points.map(([a, b], i) => ({ settings: [i], predicted: [a, b] }));
          expect(sortedKeys(paretoFront(cs, [d0, d1]))).toEqual(sortedKeys(bruteForce(cs, [d0, d1])));
        },
      ),
      { numRuns: 300 },
    );
  });
});
