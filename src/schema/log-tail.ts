import type { EventFilter, EventStore, Position, RecordedEvent } from '../stores/event-store/port.js';

/**
 * A live subscription's feed: the log itself, tailed from `after` (a client resuming where it left
 * off) or from the head at subscribe time, filtered and mapped. Every subscriber pulls from its own
 * log subscription, so a slow subscriber slows only itself and nothing piles up in memory (an
 * in-memory pub/sub would queue for it, then overflow): the log is the buffer. Ends — and releases
 * the log subscription — when the client unsubscribes.
 */
export async function* tailLog<T>(
  events: EventStore,
  options: {
    readonly after?: Position | null;
    readonly filter: EventFilter;
    /** Maps an event to the payload(s) to deliver; empty: skip it. */
    readonly map: (event: RecordedEvent) => readonly T[];
  },
): AsyncGenerator<T> {
  const after = options.after ?? (await events.headPosition()) ?? undefined;
  const subscription = events.subscribeToAll({ after, filter: options.filter });
  try {
    for await (const message of subscription) {
      if (message.kind !== 'event') continue;
      for (const payload of options.map(message.event)) yield payload;
    }
  } finally {
    await subscription.close();
  }
}
