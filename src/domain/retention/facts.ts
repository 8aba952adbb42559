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
