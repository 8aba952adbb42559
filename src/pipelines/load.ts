import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { PipelineDefinition } from '../domain/pipeline/definition.js';

const PipelinesFile = z
  .array(PipelineDefinition)
  .refine((list) => new Set(list.map((p) => p.id)).size === list.length, {
    message: 'pipeline ids must be unique',
  });

/** Reads and validates a pipelines file (a JSON array of definitions); errors name the file, entry and field. */
export function loadPipelines(path: string): PipelineDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(`PIPELINES_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = PipelinesFile.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw new ValidationError(
    `PIPELINES_FILE ${path}: ${issues.map((i) => `[${i.path}] ${i.message}`).join('; ')}`,
    issues,
  );
}
