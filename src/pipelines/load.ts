import { z } from 'zod';
import { PipelineDefinition } from '../domain/pipeline/definition.js';
import { loadJsonFile } from '../runtime/json-file.js';

const PipelinesFile = z
  .array(PipelineDefinition)
  .refine((list) => new Set(list.map((p) => p.id)).size === list.length, {
    message: 'pipeline ids must be unique',
  });

/**
 * Reads and validates a pipelines file (a JSON array of definitions); errors name the file, entry and
 * field. The file seeds the pipelines, whose truth is the log (see src/configuration).
 */
export function loadPipelines(path: string): PipelineDefinition[] {
  return loadJsonFile('PIPELINES_FILE', path, PipelinesFile);
}
