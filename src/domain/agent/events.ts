import { z } from 'zod';

/**
 * A collection agent's lifecycle facts, in its `agent-<id>` stream. Its samples are not here: each
 * flushed batch is one `batchFlushed` event in `samples-<id>`. Facts about the delivery path are
 * recorded when they can be: `deliveryDegraded` (with the time it began) is appended once the event
 * store is back, just before `deliveryRestored`.
 */
export const AGENT_EVENT_SCHEMA_VERSION = 1;

const ms = z.number().int().nonnegative();

export const AgentConfig = z.object({
  batchMaxSamples: z.number().int().positive(),
  batchMaxDelayMs: z.number().int().positive(),
  bufferCapacity: z.number().int().positive(),
  modes: z.array(z.enum(['periodic', 'event', 'threshold', 'scrape'])),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export const AgentEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('agentStarted'), config: AgentConfig, at: ms }),
  z.object({
    type: z.literal('samplingAccelerated'),
    series: z.string(),
    value: z.number(),
    bound: z.number(),
    direction: z.enum(['above', 'below']),
    intervalMs: z.number().int().positive(),
    at: ms,
  }),
  z.object({ type: z.literal('samplingRestored'), series: z.string(), value: z.number(), at: ms }),
  z.object({ type: z.literal('deliveryDegraded'), reason: z.string().max(2000), since: ms }),
  z.object({
    type: z.literal('deliveryRestored'),
    replayedBatches: z.number().int().nonnegative(),
    degradedForMs: ms,
    at: ms,
  }),
  z.object({ type: z.literal('agentStopped'), at: ms }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
