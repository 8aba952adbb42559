import { assign, setup } from 'xstate';
import { type ChangeStamp, type ConfigEntry, evolveEntry } from '../domain/configuration/entry.js';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import type { PipelineEvent } from '../domain/pipeline/events.js';

/** What changes the configuration of a pipeline that is not paused or deleted, whatever it is doing. */
const CONFIGURABLE = {
  pipelineDefined: { target: 'defined', actions: 'define' },
  pipelineUpdated: { actions: 'update' },
  pipelinePaused: { target: 'paused', actions: 'change' },
  pipelineDeleted: { target: 'deleted', actions: 'change' },
} as const;

export const PIPELINE_MACHINE_VERSION = 2;

export interface PipelineContext {
  readonly pipelineId: string;
  readonly definition: PipelineDefinition | null;
  /** The processing mode in force: a hybrid pipeline switches between the two. */
  readonly mode: 'realtime' | 'microbatch';
  readonly switches: number;
  /** Its configuration: definition, status, version, and who changed it last, when. */
  readonly config: ConfigEntry<PipelineDefinition> | null;
}

type Of<T extends PipelineEvent['type']> = Extract<PipelineEvent, { type: T }>;

/** Facts recorded before pipelines were configured at run time came from the settings file. */
const stampOf = (event: Partial<ChangeStamp>): ChangeStamp => ({
  by: event.by ?? 'system:config',
  at: event.at ?? 0,
  origin: event.origin ?? 'seed',
});

const modeOf = (definition: PipelineDefinition) =>
  definition.mode === 'microbatch' ? ('microbatch' as const) : ('realtime' as const);

/**
 * A streaming pipeline's lifecycle: defined → running (its mode switching under load) → stopped, and
 * as configured at run time: updated (in any state but deleted), paused (not running until resumed),
 * deleted (kept as history; defining it again starts over).
 */
export const pipelineMachine = setup({
  types: { context: {} as PipelineContext, events: {} as PipelineEvent, input: {} as { id: string } },
  actions: {
    define: assign(({ context, event }) => {
      const e = event as Of<'pipelineDefined'>;
      return {
        definition: e.definition,
        mode: modeOf(e.definition),
        config:
          evolveEntry(
            context.config ?? undefined,
            context.pipelineId,
            { kind: 'defined', definition: e.definition },
            stampOf(e),
          ) ?? null,
      };
    }),
    update: assign(({ context, event }) => {
      const e = event as Of<'pipelineUpdated'>;
      return {
        definition: e.definition,
        mode: modeOf(e.definition),
        config:
          evolveEntry(
            context.config ?? undefined,
            context.pipelineId,
            { kind: 'updated', definition: e.definition, changes: e.changes },
            stampOf(e),
          ) ?? null,
      };
    }),
    change: assign(({ context, event }) => {
      const e = event as Of<'pipelinePaused' | 'pipelineResumed' | 'pipelineDeleted'>;
      const kind =
        e.type === 'pipelinePaused' ? 'paused' : e.type === 'pipelineResumed' ? 'resumed' : 'deleted';
      return {
        config: evolveEntry(context.config ?? undefined, context.pipelineId, { kind }, stampOf(e)) ?? null,
      };
    }),
    switchMode: assign(({ context, event }) => ({
      mode: (event as Of<'modeSwitched'>).to,
      switches: context.switches + 1,
    })),
  },
}).createMachine({
  id: 'pipeline',
  context: ({ input }) => ({
    pipelineId: input.id,
    definition: null,
    mode: 'realtime',
    switches: 0,
    config: null,
  }),
  initial: 'undefined',
  states: {
    undefined: { on: { pipelineDefined: { target: 'defined', actions: 'define' } } },
    defined: { on: { ...CONFIGURABLE, pipelineStarted: 'running' } },
    running: {
      on: {
        modeSwitched: { target: 'running', actions: 'switchMode' },
        pipelineStopped: 'stopped',
        // A restart after a crash (no pipelineStopped), with the same definition or a new one.
        pipelineStarted: { target: 'running', reenter: true },
        // An update is recorded before the consumer restarts with it (its stop and start follow).
        ...CONFIGURABLE,
      },
    },
    stopped: { on: { ...CONFIGURABLE, pipelineStarted: 'running' } },
    /** Not analysing: nothing starts it until it is resumed. */
    paused: {
      on: {
        pipelineUpdated: { actions: 'update' },
        pipelineResumed: { target: 'stopped', actions: 'change' },
        pipelineDeleted: { target: 'deleted', actions: 'change' },
      },
    },
    /** Stopped for good, its history kept; it can be defined again. */
    deleted: { on: { pipelineDefined: { target: 'defined', actions: 'define' } } },
  },
});
