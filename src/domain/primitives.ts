import { z } from 'zod';

/**
 * Shapes shared by the facts' schemas: what ClickHouse columns and JSON can hold, checked where a fact
 * is written and where it is read.
 */

const UINT64_MAX = 18_446_744_073_709_551_615n;

/** A UInt64 as decimal text (JSON numbers lose precision past 2^53): series ids, log positions. */
export const UInt64Text = z
  .string()
  .regex(/^(0|[1-9]\d{0,19})$/, 'must be an unsigned 64-bit integer in decimal')
  .refine((text) => !/^\d+$/.test(text) || BigInt(text) <= UINT64_MAX, 'must be at most 2^64 - 1');

/**
 * Milliseconds since the epoch, from 1970 to 2100: what ClickHouse's DateTime64(3) columns hold and
 * what their TTLs (computed on DateTime, 1970–2106) handle without wrapping. Samples are refused far
 * closer to now than this at ingest.
 */
export const TimeMs = z.number().int().min(0).max(4_102_444_800_000);

/** A count stored in a UInt32 column. */
export const Count32 = z.number().int().nonnegative().max(4_294_967_295);

export const LabelSet = z.record(z.string(), z.string());
