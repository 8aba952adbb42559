import { z } from 'zod';
import { CHANGE_ORIGINS, ChangeStamp, FieldChange } from '../configuration/entry.js';
import { PipelineDefinition } from './definition.js';

/** A pipeline actor's facts, in `pipeline-<id>`. Its outputs, findings and checkpoints have their own streams. */
export const PIPELINE_EVENT_SCHEMA_VERSION = 1;
const mode = z.enum(['realtime', 'microbatch']);

export const PipelineEvent = z.discriminatedUnion('type', [
  /**
   * Defined (created, or created again after a deletion). Who, when and from where are absent from
   * facts recorded before pipelines were configured at run time: those came from the settings file.
   */
  z.object({
    type: z.literal('pipelineDefined'),
    definition: PipelineDefinition,
    by: z.string().min(1).optional(),
    at: z.number().int().optional(),
    origin: z.enum(CHANGE_ORIGINS).optional(),
  }),
  /** Its definition changed (the fields that changed, and the whole new definition). */
  z.object({
    type: z.literal('pipelineUpdated'),
    definition: PipelineDefinition,
    changes: z.array(FieldChange),
    ...ChangeStamp.shape,
  }),
  /** Analysis stops until it is resumed (it then goes on from its checkpoint). */
  z.object({ type: z.literal('pipelinePaused'), ...ChangeStamp.shape }),
  z.object({ type: z.literal('pipelineResumed'), ...ChangeStamp.shape }),
  /** Stopped for good; its history (and its outputs) stay. Defining it again starts it again. */
  z.object({ type: z.literal('pipelineDeleted'), ...ChangeStamp.shape }),
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
