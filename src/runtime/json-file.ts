import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.js';

/**
 * Reads a JSON settings file and validates it; a ValidationError names the setting, the file, and
 * each entry and field at fault with the reason.
 */
export function loadJsonFile<S extends z.ZodType>(setting: string, path: string, schema: S): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(`${setting} ${path}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw new ValidationError(
    `${setting} ${path}: ${issues.map((i) => `[${i.path}] ${i.message}`).join('; ')}`,
    issues,
  );
}
