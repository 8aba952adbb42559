import { assign, setup } from 'xstate';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import type { PipelineEvent } from '../domain/pipeline/events.js';

export const PIPELINE_MACHINE_VERSION = 1;

export interface PipelineContext {
  readonly pipelineId: string;
  readonly definition: PipelineDefinition | null;
  /** The processing mode in force: a hybrid pipeline switches between the two. */
  readonly mode: 'realtime' | 'microbatch';
  readonly switches: number;
}

type Of<T extends PipelineEvent['type']> = Extract<PipelineEvent, { type: T }>;

/** A streaming pipeline's lifecycle: defined → running (its mode switching under load) → stopped. */
export const pipelineMachine = setup({
  types: { context: {} as PipelineContext, events: {} as PipelineEvent, input: {} as { id: string } },
  actions: {
    define: assign(({ event }) => {
      const definition = (event as Of<'pipelineDefined'>).definition;
      return {
        definition,
        mode: definition.mode === 'microbatch' ? ('microbatch' as const) : ('realtime' as const),
      };
    }),
    switchMode: assign(({ context, event }) => ({
      mode: (event as Of<'modeSwitched'>).to,
      switches: context.switches + 1,
    })),
  },
}).createMachine({
  id: 'pipeline',
  context: ({ input }) => ({ pipelineId: input.id, definition: null, mode: 'realtime', switches: 0 }),
  initial: 'undefined',
  states: {
    undefined: { on: { pipelineDefined: { target: 'defined', actions: 'define' } } },
    defined: {
      on: { pipelineDefined: { target: 'defined', actions: 'define' }, pipelineStarted: 'running' },
    },
    running: {
      on: {
        modeSwitched: { target: 'running', actions: 'switchMode' },
        pipelineStopped: 'stopped',
        // A restart after a crash (no pipelineStopped), with the same definition or a new one.
        pipelineStarted: { target: 'running', reenter: true },
        pipelineDefined: { target: 'defined', actions: 'define' },
      },
    },
    stopped: {
      on: { pipelineDefined: { target: 'defined', actions: 'define' }, pipelineStarted: 'running' },
    },
  },
});
