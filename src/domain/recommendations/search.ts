import { createRandom } from '../random.js';
/**
 * Searching parameter settings: candidate settings on a grid or drawn at random (seeded) from
 * parameter ranges, constraints on parameters and on predicted objectives, the single-objective
 * optimum and the Pareto front of two objectives. Pure: the same input always gives the same answer.
 */

/** One controllable parameter: a list of values, or `min`..`max` by `step` (random search draws in [min, max]). */
export interface ParameterRange {
  readonly name: string;
  readonly values?: readonly number[] | null;
  readonly min?: number | null;
  readonly max?: number | null;
  readonly step?: number | null;
}

export type Direction = 'minimize' | 'maximize';

/** `on` names a parameter or an objective; `op` is `le` (≤) or `ge` (≥). */
export interface Constraint {
  readonly on: string;
  readonly op: 'le' | 'ge';
  readonly value: number;
}

/** A setting (values in parameter order) and its predicted objectives (in objective order). */
export interface Candidate {
  readonly settings: readonly number[];
  readonly predicted: readonly number[];
}

/** Most candidates one search evaluates. */
export const MAX_CANDIDATES = 10_000;

export class SearchInputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'SearchInputError';
  }
}

/** The values a parameter takes on a grid, in ascending order for a range and as given for a list. */
export function valuesOf(p: ParameterRange, path = 'parameter'): number[] {
  if (p.values?.length) {
    if (!p.values.every(Number.isFinite))
      throw new SearchInputError(`${path}.values`, 'must be finite numbers');
    return [...p.values];
  }
  const { min, max, step } = p;
  if (min == null || max == null || step == null)
    throw new SearchInputError(path, 'give values, or min, max and step');
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min <= max))
    throw new SearchInputError(`${path}.max`, 'must be finite and at least min');
  if (!Number.isFinite(step) || !(step > 0)) throw new SearchInputError(`${path}.step`, 'must be positive');
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  if (count > MAX_CANDIDATES)
    throw new SearchInputError(`${path}.step`, `gives more than ${MAX_CANDIDATES} values`);
  // Multiplying (not adding) keeps the values free of accumulated rounding.
  return Array.from({ length: count }, (_, i) => Number((min + i * step).toPrecision(12)));
}

/** Every combination of the parameters' values, the first parameter varying slowest. */
export function grid(parameters: readonly ParameterRange[]): number[][] {
  const lists = parameters.map((p, i) => valuesOf(p, `parameters.${i}`));
  const total = lists.reduce((n, l) => n * l.length, 1);
  if (total > MAX_CANDIDATES)
    throw new SearchInputError('parameters', `the grid holds ${total} settings, more than ${MAX_CANDIDATES}`);
  let out: number[][] = [[]];
  for (const list of lists) out = out.flatMap((prefix) => list.map((v) => [...prefix, v]));
  return parameters.length ? out : [];
}

/**
 * `count` settings drawn with the seed: a list parameter takes one of its values, a range one of its
 * steps (or any value in [min, max] without a step).
 */
export function randomSettings(
  parameters: readonly ParameterRange[],
  count: number,
  seed: number,
): number[][] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CANDIDATES)
    throw new SearchInputError('count', `must be a whole number from 1 to ${MAX_CANDIDATES}`);
  const random = createRandom(seed);
  const next = () => random.next();
  const pickers = parameters.map((p, i): (() => number) => {
    if (p.values?.length || p.step != null) {
      const values = valuesOf(p, `parameters.${i}`);
      return () => values[Math.min(values.length - 1, Math.floor(next() * values.length))]!;
    }
    const { min, max } = p;
    if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max) || !(min <= max))
      throw new SearchInputError(`parameters.${i}`, 'give values, or min and max');
    return () => min + next() * (max - min);
  });
  return Array.from({ length: count }, () => pickers.map((pick) => pick()));
}

const holds = (c: Constraint, x: number) => (c.op === 'le' ? x <= c.value : x >= c.value);

/** Whether a candidate meets every constraint (each naming a parameter or an objective). */
export function feasible(
  candidate: Candidate,
  constraints: readonly Constraint[],
  parameterNames: readonly string[],
  objectiveNames: readonly string[],
): boolean {
  return constraints.every((c) => {
    const p = parameterNames.indexOf(c.on);
    if (p >= 0) return holds(c, candidate.settings[p]!);
    const o = objectiveNames.indexOf(c.on);
    if (o >= 0) return holds(c, candidate.predicted[o]!);
    throw new SearchInputError('constraints', `${c.on} is neither a parameter nor an objective`);
  });
}

const better = (a: number, b: number, d: Direction) => (d === 'minimize' ? a < b : a > b);
const noWorse = (a: number, b: number, d: Direction) => (d === 'minimize' ? a <= b : a >= b);

/** The best candidate on objective `index` (the first of equals), or null when there is none. */
export function optimum(candidates: readonly Candidate[], direction: Direction, index = 0): Candidate | null {
  let best: Candidate | null = null;
  for (const c of candidates) {
    const v = c.predicted[index]!;
    if (!Number.isFinite(v)) continue;
    if (best === null || better(v, best.predicted[index]!, direction)) best = c;
  }
  return best;
}

/** Whether `a` dominates `b`: no worse on every objective and better on at least one. */
export function dominates(a: Candidate, b: Candidate, directions: readonly Direction[]): boolean {
  let strictly = false;
  for (let i = 0; i < directions.length; i++) {
    const d = directions[i]!;
    if (!noWorse(a.predicted[i]!, b.predicted[i]!, d)) return false;
    if (better(a.predicted[i]!, b.predicted[i]!, d)) strictly = true;
  }
  return strictly;
}

/**
 * The Pareto front of two objectives: the candidates no other candidate dominates, sorted by the
 * first objective (best first), ties by the second. Equal predictions all stay on the front.
 * A sort and one sweep: O(n log n).
 */
export function paretoFront(
  candidates: readonly Candidate[],
  directions: readonly [Direction, Direction] = ['minimize', 'minimize'],
): Candidate[] {
  const [d0, d1] = directions;
  // Both objectives as "smaller is better".
  const key = (c: Candidate) =>
    [
      d0 === 'minimize' ? c.predicted[0]! : -c.predicted[0]!,
      d1 === 'minimize' ? c.predicted[1]! : -c.predicted[1]!,
    ] as const;
  const sorted = candidates
    .filter((c) => Number.isFinite(c.predicted[0]) && Number.isFinite(c.predicted[1]))
    .map((c) => ({ c, k: key(c) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1]);
  const front: Candidate[] = [];
  let bestSecond = Number.POSITIVE_INFINITY;
  let i = 0;
  while (i < sorted.length) {
    // A group with the same first objective: only its smallest second can be on the front (and its equals).
    let j = i;
    while (j < sorted.length && sorted[j]!.k[0] === sorted[i]!.k[0]) j++;
    const groupBest = sorted[i]!.k[1];
    if (groupBest < bestSecond) {
      for (let g = i; g < j && sorted[g]!.k[1] === groupBest; g++) front.push(sorted[g]!.c);
      bestSecond = groupBest;
    }
    i = j;
  }
  return front;
}
