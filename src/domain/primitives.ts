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

/** Milliseconds since the epoch, within what ClickHouse's DateTime64(3) holds (1900–2299). */
export const TimeMs = z.number().int().min(-2_208_988_800_000).max(10_413_792_000_000);

export const LabelSet = z.record(z.string(), z.string());
