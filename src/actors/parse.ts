import type { z } from 'zod';
import { parseOrThrow } from '../domain/errors.js';

/** Parses an event with its zod schema; on failure throws a ValidationError that names every bad field. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  return parseOrThrow(schema, input, { what: 'invalid event' });
}
