import { z } from 'zod';
import { TimeMs, UInt64Text } from '../primitives.js';

/** Series ids listed in one `idleSeriesFreed` at most; the rest are counted. */
export const MAX_LISTED_FREED = 1000;

/**
 * The ingest edge freed series idle for `idleMs` (their data stays; they stop counting towards the
 * series limits), in `ingest-main`: recorded so that what stopped being watched, and when, is in the
 * log — an absence alert on such a series fires well before (see the alert rules' `missedIntervals`).
 */
export const IdleSeriesFreed = z.object({
  at: TimeMs,
  idleMs: z.number().int().positive(),
  count: z.number().int().positive(),
  seriesIds: z.array(UInt64Text).max(MAX_LISTED_FREED),
});
export type IdleSeriesFreed = z.infer<typeof IdleSeriesFreed>;

export const INGEST_FACTS = { idleSeriesFreed: IdleSeriesFreed };
