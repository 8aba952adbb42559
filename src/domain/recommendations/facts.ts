import { z } from 'zod';
import { TimeMs } from '../primitives.js';

/**
 * Recommendations as facts, in `recommendations-<id>`: `recommendationMade` (the search, what it
 * found and the evidence: which model versions predicted what) and `recommendationScored` (once the
 * parameters reached a recommended setting: each objective's mean before and after).
 */

const finite = z.number().finite();
const SeriesId = z.string().regex(/^\d{1,20}$/);

export const RecommendationParameter = z.object({
  name: z.string().min(1),
  seriesId: SeriesId,
});

export const RecommendationObjective = z.object({
  name: z.string().min(1),
  /** The series the objective is measured on (scored with its mean before and after). */
  seriesId: SeriesId,
  modelId: z.string().min(1),
  version: z.number().int().min(1),
  direction: z.enum(['minimize', 'maximize']),
  /** The parameters, by name, in the model's feature order. */
  features: z.array(z.string()),
});

export const RecommendationCandidate = z.object({
  /** In parameter order. */
  settings: z.array(finite),
  /** In objective order: the models' predictions. */
  predicted: z.array(finite),
});
export type RecommendationCandidate = z.infer<typeof RecommendationCandidate>;

export const RecommendationMade = z.object({
  recommendationId: z.string().min(1),
  madeAt: TimeMs,
  parameters: z.array(RecommendationParameter),
  objectives: z.array(RecommendationObjective),
  constraints: z.array(z.object({ on: z.string(), op: z.enum(['le', 'ge']), value: finite })),
  method: z.enum(['grid', 'random']),
  seed: z.number().int().nullable(),
  candidatesEvaluated: z.number().int().min(0),
  feasible: z.number().int().min(0),
  /** One objective: the optimum (null when nothing was feasible). */
  best: RecommendationCandidate.nullable(),
  /** Two objectives: the non-dominated candidates. */
  front: z.array(RecommendationCandidate),
  /** A parameter within this of its recommended value counts as set to it. */
  tolerance: finite,
  /** The windows before and after applying over which each objective's mean is compared. */
  windowMs: z.number().int().min(1),
});
export type RecommendationMade = z.infer<typeof RecommendationMade>;

export const ObjectiveOutcome = z.object({
  name: z.string(),
  seriesId: SeriesId,
  before: finite.nullable(),
  after: finite.nullable(),
  /** Null when a window had no sample. */
  improved: z.boolean().nullable(),
});
export type ObjectiveOutcome = z.infer<typeof ObjectiveOutcome>;

export const RecommendationScored = z.object({
  recommendationId: z.string().min(1),
  scoredAt: TimeMs,
  /** When every parameter series first reached the applied setting. */
  appliedAt: TimeMs,
  settings: z.array(finite),
  outcomes: z.array(ObjectiveOutcome),
  /** Every objective improved; null when one could not be compared. */
  improved: z.boolean().nullable(),
});
export type RecommendationScored = z.infer<typeof RecommendationScored>;

export const RECOMMENDATION_FACTS = {
  recommendationMade: RecommendationMade,
  recommendationScored: RecommendationScored,
};

/** The settings a recommendation counts as applied: its optimum, or any member of its front. */
export const targetsOf = (made: Pick<RecommendationMade, 'best' | 'front'>) =>
  made.best ? [made.best, ...made.front] : made.front;

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * When the parameters first reached a target setting: samples of the parameter series (in any order)
 * replayed in time order, each series' latest value compared with every target within `tolerance`.
 */
export function appliedAt(
  samples: readonly { seriesId: string; ts: number; value: number }[],
  parameterIds: readonly string[],
  targets: readonly RecommendationCandidate[],
  tolerance: number,
): { at: number; settings: number[] } | null {
  const latest = new Map<string, number>();
  for (const s of [...samples].sort((a, b) => a.ts - b.ts)) {
    latest.set(s.seriesId, s.value);
    if (!parameterIds.every((id) => latest.has(id))) continue;
    const current = parameterIds.map((id) => latest.get(id)!);
    const hit = targets.find((t) => t.settings.every((v, i) => Math.abs(current[i]! - v) <= tolerance));
    if (hit) return { at: s.ts, settings: [...hit.settings] };
  }
  return null;
}

/** Each objective's mean before and after, and whether it moved the way its direction wants. */
export function compareOutcomes(
  objectives: readonly Pick<z.infer<typeof RecommendationObjective>, 'name' | 'seriesId' | 'direction'>[],
  before: readonly (readonly number[])[],
  after: readonly (readonly number[])[],
): { outcomes: ObjectiveOutcome[]; improved: boolean | null } {
  const outcomes = objectives.map((o, i) => {
    const b = mean(before[i] ?? []);
    const a = mean(after[i] ?? []);
    const improved = a === null || b === null ? null : o.direction === 'minimize' ? a < b : a > b;
    return { name: o.name, seriesId: o.seriesId, before: b, after: a, improved };
  });
  const improved = outcomes.some((o) => o.improved === null) ? null : outcomes.every((o) => o.improved);
  return { outcomes, improved };
}
