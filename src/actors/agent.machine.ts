import { assign, setup } from 'xstate';
import type { AgentConfig, AgentEvent } from '../domain/agent/events.js';

export const AGENT_MACHINE_VERSION = 1;

export interface AgentContext {
  readonly agentId: string;
  readonly config: AgentConfig | null;
  readonly starts: number;
  readonly degradedPeriods: number;
  readonly replayedBatches: number;
  /** Series key of the watched value that accelerated sampling, while it is accelerated. */
  readonly acceleratedBy: string | null;
}

type Of<T extends AgentEvent['type']> = Extract<AgentEvent, { type: T }>;

/**
 * A collection agent's lifecycle: idle → running (sampling normal | accelerated, in parallel with
 * delivery healthy | degraded) → stopped, and running again on restart. The data plane (buffering,
 * batching, spooling) runs outside the machine at full speed; this actor records the agent's modes.
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as { id: string },
  },
  actions: {
    configure: assign(({ context, event }) => ({
      config: (event as Of<'agentStarted'>).config,
      starts: context.starts + 1,
    })),
    accelerate: assign(({ event }) => ({ acceleratedBy: (event as Of<'samplingAccelerated'>).series })),
    restore: assign({ acceleratedBy: null }),
    degrade: assign(({ context }) => ({ degradedPeriods: context.degradedPeriods + 1 })),
    recover: assign(({ context, event }) => ({
      replayedBatches: context.replayedBatches + (event as Of<'deliveryRestored'>).replayedBatches,
    })),
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({
    agentId: input.id,
    config: null,
    starts: 0,
    degradedPeriods: 0,
    replayedBatches: 0,
    acceleratedBy: null,
  }),
  initial: 'idle',
  states: {
    idle: { on: { agentStarted: { target: 'running', actions: 'configure' } } },
    running: {
      type: 'parallel',
      on: {
        agentStopped: 'stopped',
        // A restart after a crash (no agentStopped): start over in the initial modes.
        agentStarted: { target: 'running', reenter: true, actions: 'configure' },
      },
      states: {
        sampling: {
          initial: 'normal',
          states: {
            normal: { on: { samplingAccelerated: { target: 'accelerated', actions: 'accelerate' } } },
            accelerated: { on: { samplingRestored: { target: 'normal', actions: 'restore' } } },
          },
        },
        delivery: {
          initial: 'healthy',
          states: {
            healthy: { on: { deliveryDegraded: { target: 'degraded', actions: 'degrade' } } },
            degraded: { on: { deliveryRestored: { target: 'healthy', actions: 'recover' } } },
          },
        },
      },
    },
    stopped: {
      entry: 'restore',
      on: { agentStarted: { target: 'running', actions: 'configure' } },
    },
  },
});
