import { z } from 'zod';
import type { CollectionAgent, RecordResult } from '../collection/agent.js';
import { ValidationError } from '../domain/errors.js';
import { METRIC_KINDS } from '../domain/metrics/kinds.js';

/** One sample as the GraphQL `ingestMetrics` mutation (and any JSON edge) takes it. */
export const IngestSample = z.object({
  name: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  kind: z.enum(METRIC_KINDS),
  unit: z.string().max(64).optional(),
  value: z.number(),
  /** Milliseconds since the epoch; default: when it arrives. */
  timestamp: z.number().optional(),
});
export const IngestRequest = z.object({ samples: z.array(IngestSample).max(100_000) });
export type IngestRequest = z.infer<typeof IngestRequest>;

/**
 * What the `ingestMetrics` mutation calls: validates the request's shape (a ValidationError naming
 * the field when it is wrong), then records each sample, reporting every refused one by index, field
 * and reason. Accepted samples are kept whatever happens to the others.
 */
export function ingestMetrics(agent: CollectionAgent, input: unknown): RecordResult {
  const parsed = IngestRequest.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.') || '(root)',
      message: i.message,
    }));
    throw new ValidationError(
      `invalid ingest request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return agent.recordSamples(parsed.data.samples);
}
