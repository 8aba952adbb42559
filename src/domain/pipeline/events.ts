import { z } from 'zod';
import { PipelineDefinition } from './definition.js';

/** A pipeline actor's facts, in `pipeline-<id>`. Its outputs, findings and checkpoints have their own streams. */
export const PIPELINE_EVENT_SCHEMA_VERSION = 1;
const mode = z.enum(['realtime', 'microbatch']);

export const PipelineEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('pipelineDefined'), definition: PipelineDefinition }),
  z.object({ type: z.literal('pipelineStarted'), resumedAfter: z.string().nullable(), at: z.number().int() }),
  z.object({
    type: z.literal('modeSwitched'),
    from: mode,
    to: mode,
    inputSamplesPerSecond: z.number().nonnegative(),
    sourcePosition: z.string(),
  }),
  z.object({ type: z.literal('pipelineStopped'), at: z.number().int() }),
]);
export type PipelineEvent = z.infer<typeof PipelineEvent>;
