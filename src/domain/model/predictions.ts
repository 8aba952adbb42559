import { z } from 'zod';
import { TimeMs, UInt64Text } from '../primitives.js';

/**
 * Live scoring as facts. Attachments of a model to live series, in `scorers-main`: `modelAttached`
 * (the model, its input series in column order, how often it scores) and `modelDetached`. What an
 * attachment scores, in `predictions-<attachmentId>`: `predictionsMade`, one per source sample batch
 * that gave at least one feature row, each caused by that batch.
 */

export const AttachmentId = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,99}$/, 'must be lower-case letters, digits, _ and - (starting with a letter)');

export const ModelAttached = z.object({
  id: AttachmentId,
  modelId: z.string().min(1).max(200),
  /** The input series, one feature column each, in the model's feature order; the first drives scoring. */
  seriesIds: z.array(UInt64Text).min(1).max(100),
  /** At least this many ms between two scored samples of the first series; null: every sample. */
  every: z.number().int().min(1).nullable(),
  by: z.string(),
  at: TimeMs,
});
export type ModelAttached = z.infer<typeof ModelAttached>;

export const ModelDetached = z.object({ id: AttachmentId, by: z.string(), at: TimeMs });
export type ModelDetached = z.infer<typeof ModelDetached>;

export const LivePrediction = z.object({
  /** The time of the first input series' sample the row was built for. */
  ts: TimeMs,
  /** That series. */
  seriesId: UInt64Text,
  value: z.number().finite(),
});
export type LivePrediction = z.infer<typeof LivePrediction>;

export const PredictionsMade = z.object({
  attachmentId: AttachmentId,
  modelId: z.string().min(1),
  version: z.number().int().min(1),
  predictions: z.array(LivePrediction).min(1),
  /**
   * The scorer's state after the source batch: the latest sample of each input series and the last
   * time scored. A restart resumes from it, after the source batch, as if it had never stopped.
   */
  inputs: z.array(z.object({ seriesId: UInt64Text, ts: TimeMs, value: z.number().finite() })),
  lastScoredTs: TimeMs.nullable(),
});
export type PredictionsMade = z.infer<typeof PredictionsMade>;

export const SCORER_FACTS = { modelAttached: ModelAttached, modelDetached: ModelDetached };
export const PREDICTION_FACTS = { predictionsMade: PredictionsMade };

export interface ScorerInput {
  readonly seriesId: string;
  readonly ts: number;
  readonly value: number;
}

/**
 * The feature rows of a batch of samples of the input series (`inputs[0]` drives), given the latest
 * sample of each input before it. Samples are taken in time order (at equal times, the other inputs
 * before the driver); a sample no newer than its series' latest is ignored. Each driver sample newer
 * than `lastScored + every` gives a row: the latest value of every input as of its time, once every
 * input has one. Pure; `latest` is updated in place.
 */
export function featureRows(
  seriesIds: readonly string[],
  every: number | null,
  latest: Map<string, { ts: number; value: number }>,
  lastScored: number | null,
  samples: readonly ScorerInput[],
): { rows: { ts: number; row: number[] }[]; lastScored: number | null } {
  const driver = seriesIds[0]!;
  const ordered = [...samples].sort(
    (a, b) => a.ts - b.ts || Number(a.seriesId === driver) - Number(b.seriesId === driver),
  );
  const rows: { ts: number; row: number[] }[] = [];
  let last = lastScored;
  for (const s of ordered) {
    const known = latest.get(s.seriesId);
    if (known && s.ts <= known.ts) continue;
    latest.set(s.seriesId, { ts: s.ts, value: s.value });
    if (s.seriesId !== driver) continue;
    if (last !== null && s.ts < last + (every ?? 1)) continue;
    const row = seriesIds.map((id) => latest.get(id)?.value);
    if (row.some((v) => v === undefined)) continue;
    rows.push({ ts: s.ts, row: row as number[] });
    last = s.ts;
  }
  return { rows, lastScored: last };
}
