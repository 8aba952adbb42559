import { z } from 'zod';
import { TimeMs } from '../primitives.js';

/** The kinds of records kept in ClickHouse beside the samples, each with its own retention. */
export const RECORD_KINDS = ['findings', 'alerts', 'predictions', 'forecasts', 'auditIndex'] as const;
export const RecordKind = z.enum(RECORD_KINDS);
export type RecordKind = z.infer<typeof RecordKind>;

/**
 * One expiry run of one kind of record, in `retention-main`: which tables lost how many rows, and up
 * to where — everything before `before` (the retention's cutoff, or earlier when a consumer still
 * needed the rows: `heldBy` names it).
 */
export const RecordsExpired = z.object({
  kind: RecordKind,
  at: TimeMs,
  days: z.number().int().positive(),
  before: TimeMs,
  heldBy: z.string().max(500).nullable(),
  tables: z.array(z.object({ table: z.string(), removed: z.number().int().nonnegative() })),
});
export type RecordsExpired = z.infer<typeof RecordsExpired>;

export const RETENTION_FACTS = { recordsExpired: RecordsExpired };

/** Series ids one deletion takes at most. */
export const MAX_DELETED_SERIES = 10_000;

/** Someone (the principal) asked to delete these series: every record of them before this fact goes. */
export const SeriesDeletionRequested = z.object({
  seriesIds: z
    .array(z.string().regex(/^\d{1,20}$/))
    .min(1)
    .max(MAX_DELETED_SERIES),
  reason: z.string().max(1000).nullable(),
  at: TimeMs,
});
export type SeriesDeletionRequested = z.infer<typeof SeriesDeletionRequested>;

/** What the deletion removed, table by table (caused by its request). */
export const SeriesDeleted = z.object({
  seriesIds: z.number().int().positive(),
  before: z.string().regex(/^\d{1,20}$/),
  tables: z.array(z.object({ table: z.string(), removed: z.number().int().nonnegative() })),
  at: TimeMs,
});
export type SeriesDeleted = z.infer<typeof SeriesDeleted>;

export const DELETION_FACTS = {
  seriesDeletionRequested: SeriesDeletionRequested,
  seriesDeleted: SeriesDeleted,
};
