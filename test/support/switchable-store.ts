import { type EventStore, EventStoreUnavailableError } from '../../src/stores/event-store/port.js';

/**
 * The same event store behind a switch: while `down`, every call fails as an unreachable server
 * would, and nothing reaches the store underneath.
 */
export function switchable(store: EventStore): EventStore & { down: boolean; calls: number } {
  const unavailable = () =>
    new EventStoreUnavailableError('event store unreachable (switched off by the test)');
  const wrapper = {
    down: false,
    calls: 0,
    kind: store.kind,
    async identity() {
      if (wrapper.down) throw unavailable();
      return store.identity();
    },
    async readAt(...args: Parameters<EventStore['readAt']>) {
      if (wrapper.down) throw unavailable();
      return store.readAt(...args);
    },
    async findEvent(...args: Parameters<EventStore['findEvent']>) {
      if (wrapper.down) throw unavailable();
      return store.findEvent(...args);
    },
    async append(...args: Parameters<EventStore['append']>) {
      wrapper.calls++;
      if (wrapper.down) throw unavailable();
      return store.append(...args);
    },
    async *readStream(...args: Parameters<EventStore['readStream']>) {
      if (wrapper.down) throw unavailable();
      yield* store.readStream(...args);
    },
    async *readAll(...args: Parameters<EventStore['readAll']>) {
      if (wrapper.down) throw unavailable();
      yield* store.readAll(...args);
    },
    subscribeToAll: (...args: Parameters<EventStore['subscribeToAll']>) => store.subscribeToAll(...args),
    async headPosition() {
      if (wrapper.down) throw unavailable();
      return store.headPosition();
    },
    async highestPosition() {
      if (wrapper.down) throw unavailable();
      return store.highestPosition();
    },
    async setStreamMaxAge(...args: Parameters<EventStore['setStreamMaxAge']>) {
      if (wrapper.down) throw unavailable();
      return store.setStreamMaxAge(...args);
    },
    scavenge: (...args: Parameters<EventStore['scavenge']>) => store.scavenge(...args),
    truncateStream: (...args: Parameters<EventStore['truncateStream']>) => store.truncateStream(...args),
    close: () => store.close(),
  };
  return wrapper;
}
