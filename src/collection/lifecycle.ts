import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { AgentEvent } from '../domain/agent/events.js';

/**
 * An agent's lifecycle facts (`agent-<id>`), recorded in the order they happen. While the event store
 * cannot be reached they wait in memory, and the next fact (or `flush`) sends them: sampling never
 * waits on them. A fact the actor refuses is logged and not retried.
 */
export function createLifecycle(options: { id: string; host: ActorHost; logger: Logger }) {
  const { id, host, logger } = options;
  const waiting: AgentEvent[] = [];
  let chain: Promise<void> = Promise.resolve();

  const commandId = (event: AgentEvent) =>
    `${event.type}:${'series' in event ? `${event.series}:` : ''}${event.type === 'deliveryDegraded' ? event.since : event.at}`;

  function drain(): Promise<void> {
    chain = chain.then(async () => {
      while (waiting.length) {
        const event = waiting[0]!;
        try {
          await host.send({ kind: 'agent', id }, event, {
            principal: `actor:agent-${id}`,
            commandId: commandId(event),
          });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code !== 'EVENT_REJECTED' && code !== 'VALIDATION_FAILED') return; // store trouble: later
          logger.warn({ err: error, event: event.type }, 'agent lifecycle event not recorded');
        }
        waiting.shift();
      }
    });
    return chain;
  }

  return {
    record(event: AgentEvent): void {
      waiting.push(event);
      void drain();
    },
    /** Sends what waits; resolves when done or when the store fails again. */
    flush: drain,
    get waiting(): number {
      return waiting.length;
    },
  };
}
