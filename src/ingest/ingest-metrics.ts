import { z } from 'zod';
import type { CollectionAgent, RecordResult } from '../collection/agent.js';
import { IDEMPOTENCY_KEY } from '../collection/idempotency.js';
import { parseOrThrow } from '../domain/errors.js';
import { METRIC_KINDS } from '../domain/metrics/kinds.js';
import type { JsonValue } from '../stores/event-store/port.js';

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
export const IngestRequest = z.object({
  /** An idempotency key: a retried request with the same id records nothing and is answered the same. */
  id: z.string().regex(IDEMPOTENCY_KEY, 'must be 1-200 printable ASCII characters').optional(),
  samples: z.array(IngestSample).max(100_000),
});
export type IngestRequest = z.infer<typeof IngestRequest>;

/** Refusals kept with a keyed request's answer (a retry gets at most these). */
const REMEMBERED_REFUSALS = 1000;

/**
 * What the `ingestMetrics` mutation calls: validates the request's shape (a ValidationError naming
 * the field when it is wrong), then pushes the samples as one durable event, reporting every refused
 * one by index, field and reason. Answers once the accepted samples are durable.
 */
export async function ingestMetrics(
  agent: CollectionAgent,
  input: unknown,
  principal?: string,
): Promise<RecordResult & { duplicate: boolean }> {
  const { id, samples } = parseOrThrow(IngestRequest, input, { what: 'invalid ingest request' });
  const outcome = await agent.push({
    // Its own key space per edge and per caller: a key used on both edges or by two callers never
    // crosses answers.
    ...(id === undefined ? {} : { key: `graphql:${principal ?? 'anonymous'}:${id}` }),
    ...(principal === undefined ? {} : { principal }),
    prepare: () => ({
      samples,
      respond: (result) =>
        ({ ...result, rejected: result.rejected.slice(0, REMEMBERED_REFUSALS) }) as unknown as JsonValue,
    }),
  });
  return { ...(outcome.response as unknown as RecordResult), duplicate: outcome.duplicate };
}
