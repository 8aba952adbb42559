import type {
  EventFilter,
  EventStore,
  Position,
  RecordedEvent,
  Subscription,
  SubscriptionMessage,
} from '../stores/event-store/port.js';

/**
 * A live subscription's feed: the log itself, tailed from `after` (a client resuming where it left
 * off) or from the head at subscribe time, filtered and mapped. Every subscriber pulls from its own
 * log subscription at its own pace, so nothing is queued for it here: the log is the buffer.
 *
 * An explicit iterator rather than an async generator: a generator waiting on the log cannot be
 * returned until it next yields (which, for a selective filter, may be never), so a disconnected
 * client would keep its log subscription open. Here `return()` closes the log subscription at once,
 * which also ends a pending `next()`.
 */
export function tailLog<T>(
  events: EventStore,
  options: {
    readonly after?: Position | null;
    readonly filter: EventFilter;
    /** Maps an event to the payload(s) to deliver; empty: skip it. */
    readonly map: (event: RecordedEvent) => readonly T[];
  },
): AsyncIterableIterator<T> {
  let subscription: Subscription | null = null;
  let messages: AsyncIterator<SubscriptionMessage> | null = null;
  let closed = false;
  const ready: T[] = [];
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });

  async function close(): Promise<void> {
    closed = true;
    ready.length = 0;
    const open = subscription;
    subscription = null;
    await open?.close();
  }

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      while (!closed) {
        const payload = ready.shift();
        if (payload !== undefined) return { value: payload, done: false };
        if (!messages) {
          const after = options.after ?? (await events.headPosition()) ?? undefined;
          if (closed) break;
          subscription = events.subscribeToAll({ after, filter: options.filter });
          messages = subscription[Symbol.asyncIterator]();
        }
        const message = await messages.next();
        if (message.done) break;
        if (message.value.kind === 'event') ready.push(...options.map(message.value.event));
      }
      await close();
      return done();
    },
    async return() {
      await close();
      return done();
    },
    async throw(error?: unknown) {
      await close();
      throw error;
    },
  };
}
