import { randomUUID } from 'node:crypto';
import {
  type AllStreamResolvedEvent,
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type Position as EsdbPosition,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
} from '@eventstore/db-client';
import { serverFilter } from './esdb-filter.js';
import {
  categoryOf,
  type EventStore,
  EventStoreUnavailableError,
  type ExpectedRevision,
  FIND_EVENT_DEPTH,
  type JsonValue,
  type Metadata,
  matchesFilter,
  type Position,
  type RecordedEvent,
  type Subscription,
  type SubscriptionMessage,
  WrongExpectedVersionError,
} from './port.js';

/*
 * EventStoreDB orders $all by (commit, prepare). Events of one multi-event append share a commit
 * position and differ in prepare position, so neither alone is a checkpoint. The port's Position is
 * one bigint: the commit position shifted left 24 bits, plus how far the prepare position is below the
 * commit (subtracted from 2^24-1 so the order is kept). One append is far below 16 MiB, and a
 * position stays within UInt64 (the ClickHouse column) while the log is under 1 TiB.
 */
const OFFSET_BITS = 24n;
const OFFSET_MAX = (1n << OFFSET_BITS) - 1n;

export function encodeEsdbPosition(position: EsdbPosition): Position {
  const back = position.commit - position.prepare;
  if (back < 0n || back > OFFSET_MAX)
    throw new Error(`unsupported EventStoreDB position ${String(position)}`);
  return (position.commit << OFFSET_BITS) | (OFFSET_MAX - back);
}

export function decodeEsdbPosition(position: Position): EsdbPosition {
  const commit = position >> OFFSET_BITS;
  return { commit, prepare: commit - (OFFSET_MAX - (position & OFFSET_MAX)) };
}

function toEsdbExpected(expected: ExpectedRevision | undefined): AppendExpectedRevision {
  if (expected === undefined || expected === 'any') return ANY;
  if (expected === 'noStream') return NO_STREAM;
  if (expected === 'streamExists') return STREAM_EXISTS;
  return expected;
}

function fromEsdbRevision(value: unknown): bigint | null {
  return typeof value === 'bigint' ? value : null;
}

function translate(error: unknown, streamId?: string): unknown {
  if (error instanceof EsdbWrongExpectedVersionError) {
    const expected = error.expectedVersion;
    return new WrongExpectedVersionError(
      streamId ?? error.streamName,
      typeof expected === 'bigint'
        ? expected
        : expected === NO_STREAM
          ? 'noStream'
          : expected === STREAM_EXISTS
            ? 'streamExists'
            : 'any',
      fromEsdbRevision(error.actualVersion),
    );
  }
  if (error instanceof UnavailableError)
    return new EventStoreUnavailableError(error.message, { cause: error });
  return error;
}

function toRecorded(
  resolved: AllStreamResolvedEvent | { event?: AllStreamResolvedEvent['event'] },
): RecordedEvent | null {
  const event = resolved.event;
  if (!event?.isJson || event.type.startsWith('$') || event.streamId.startsWith('$')) return null;
  if (!event.position)
    throw new Error('EventStoreDB server did not return event positions (needs 22.6 or later)');
  return {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    category: categoryOf(event.streamId),
    revision: event.revision,
    position: encodeEsdbPosition(event.position),
    data: event.data as JsonValue,
    metadata: (event.metadata ?? {}) as Metadata,
    createdAt: event.created,
  };
}

/** Position of the newest non-system event, paging backwards past system records. */
async function headOf(client: EventStoreDBClient): Promise<Position | null> {
  let from: EsdbPosition | typeof END = END;
  for (;;) {
    let last: AllStreamResolvedEvent | null = null;
    let seen = 0;
    const page: AsyncIterable<AllStreamResolvedEvent> = client.readAll({
      direction: BACKWARDS,
      fromPosition: from,
      maxCount: 500,
    });
    for await (const resolved of page) {
      seen++;
      last = resolved;
      const event = toRecorded(resolved);
      if (event) return event.position;
    }
    const position: EsdbPosition | undefined = last?.event?.position;
    if (seen < 500 || !position) return null;
    from = position;
  }
}

/** The EventStoreDB / KurrentDB adapter. The client is owned by the caller (the composition root). */
export function createEsdbEventStore(client: EventStoreDBClient): EventStore {
  /** Stream metadata is set whole: keep what is there and change only the given settings. */
  async function updateMetadata(streamId: string, changes: { maxAge?: number; truncateBefore?: number }) {
    try {
      const current = (await client.getStreamMetadata(streamId)).metadata ?? {};
      const next: Record<string, unknown> = { ...current, ...changes };
      for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
      await client.setStreamMetadata(streamId, next);
    } catch (error) {
      throw translate(error, streamId);
    }
  }

  /** The stream that names the store: its first event carries the epoch, written by whoever came first. */
  const IDENTITY_STREAM = 'storeidentity-main';
  let identity: Promise<{ epoch: string }> | null = null;
  async function readIdentity(): Promise<{ epoch: string } | null> {
    try {
      for await (const resolved of client.readStream(IDENTITY_STREAM, {
        direction: FORWARDS,
        fromRevision: START,
        maxCount: 1,
      })) {
        const epoch = (resolved.event?.data as { epoch?: unknown } | undefined)?.epoch;
        if (typeof epoch === 'string') return { epoch };
      }
      return null;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw translate(error, IDENTITY_STREAM);
    }
  }
  async function establishIdentity(): Promise<{ epoch: string }> {
    const found = await readIdentity();
    if (found) return found;
    const epoch = randomUUID();
    try {
      await client.appendToStream(IDENTITY_STREAM, jsonEvent({ type: 'storeCreated', data: { epoch } }), {
        expectedRevision: NO_STREAM,
      });
      return { epoch };
    } catch (error) {
      // Another instance named the store first: its epoch is the store's.
      if (error instanceof EsdbWrongExpectedVersionError) {
        const other = await readIdentity();
        if (other) return other;
      }
      throw translate(error, IDENTITY_STREAM);
    }
  }

  return {
    kind: 'eventstoredb',

    identity() {
      identity ??= establishIdentity().catch((error: unknown) => {
        identity = null;
        throw error;
      });
      return identity;
    },

    async readAt(position) {
      try {
        for await (const resolved of client.readAll({
          direction: FORWARDS,
          fromPosition: decodeEsdbPosition(position),
          maxCount: 1,
        })) {
          const event = toRecorded(resolved);
          return event && event.position === position ? event : null;
        }
        return null;
      } catch (error) {
        throw translate(error);
      }
    },

    async findEvent(streamId, eventId) {
      // No index by event id: search the stream's newest events.
      let seen = 0;
      for await (const event of this.readStream(streamId, { direction: 'backwards' })) {
        if (event.id === eventId) return event;
        if (++seen >= FIND_EVENT_DEPTH) return null;
      }
      return null;
    },

    async append(streamId, events, options = {}) {
      if (events.length === 0) throw new Error('append needs at least one event');
      try {
        const result = await client.appendToStream(
          streamId,
          events.map((e) =>
            jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: e.metadata ?? {} }),
          ),
          { expectedRevision: toEsdbExpected(options.expectedRevision) },
        );
        if (!result.position) throw new Error('EventStoreDB server did not return the append position');
        return {
          nextExpectedRevision: result.nextExpectedRevision,
          position: encodeEsdbPosition(result.position),
        };
      } catch (error) {
        throw translate(error, streamId);
      }
    },

    async *readStream(streamId, options = {}) {
      const backwards = options.direction === 'backwards';
      const from = options.fromRevision ?? (backwards ? 'end' : 'start');
      try {
        const read = client.readStream(streamId, {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision: from === 'start' ? START : from === 'end' ? END : from,
          ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
        });
        for await (const resolved of read) {
          const event = resolved.event;
          if (!event?.isJson) continue;
          yield {
            id: event.id,
            type: event.type,
            streamId: event.streamId,
            category: categoryOf(event.streamId),
            revision: event.revision,
            position: event.position ? encodeEsdbPosition(event.position) : -1n,
            data: event.data as JsonValue,
            metadata: (event.metadata ?? {}) as Metadata,
            createdAt: event.created,
          };
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return;
        throw translate(error, streamId);
      }
    },

    async *readAll(options = {}) {
      // Filtered here: this client's read of $all takes no server filter (its subscriptions do, above).
      let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
      if (remaining <= 0) return;
      try {
        const read = client.readAll({
          direction: FORWARDS,
          fromPosition: options.after === undefined ? START : decodeEsdbPosition(options.after),
        });
        for await (const resolved of read) {
          const event = toRecorded(resolved);
          if (!event || (options.after !== undefined && event.position <= options.after)) continue;
          if (!matchesFilter(event, options.filter)) continue;
          yield event;
          if (--remaining <= 0) return;
        }
      } catch (error) {
        throw translate(error);
      }
    },

    subscribeToAll(options = {}): Subscription {
      // The server filters by category or event type (`esdb-filter.ts`); every event is still checked
      // here too, so categories mean exactly what they mean in the embedded store. Catch-up is seen on
      // any server version: once the subscription delivers the event that was the head of the log when
      // it started, or the server's search checkpoints reach it (filtered out, the head is never
      // delivered), or the server says it caught up (23.10 on) and nothing it sent before waits in the
      // client's buffer (the signal can overtake buffered events).
      // Both signals can come while events the server sent before them still wait in the client's
      // buffer (a paused subscription): caught up only once that buffer is drained.
      let searchedPastHead = false;
      const reached = (position: EsdbPosition): void => {
        if (head !== undefined && head !== null && encodeEsdbPosition(position) >= head) {
          searchedPastHead = true;
          drainedAfterServerCaughtUp();
        }
      };
      const subscription = client.subscribeToAll({
        fromPosition: options.after === undefined ? START : decodeEsdbPosition(options.after),
        filter: serverFilter(options.filter, reached),
      });
      let serverCaughtUp = false;
      const drainedAfterServerCaughtUp = (): void => {
        if ((serverCaughtUp || searchedPastHead) && !caughtUp && subscription.readableLength === 0)
          markCaughtUp();
      };
      subscription.on('caughtUp', () => {
        serverCaughtUp = true;
        drainedAfterServerCaughtUp();
      });
      const queue: SubscriptionMessage[] = [];
      const highWater = 1000;
      let failure: unknown = null;
      let ended = false;
      let caughtUp = false;
      let head: Position | null | undefined;
      let notify: (() => void) | null = null;
      const signal = (): void => {
        notify?.();
        notify = null;
      };
      const markCaughtUp = (): void => {
        if (caughtUp) return;
        caughtUp = true;
        queue.push({ kind: 'caughtUp' });
        signal();
      };
      void headOf(client).then(
        (position) => {
          head = position;
          if (position === null || (options.after !== undefined && position <= options.after)) markCaughtUp();
        },
        (error: unknown) => {
          failure = translate(error);
          signal();
        },
      );
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        try {
          const event = toRecorded(resolved);
          if (!event) return;
          if (options.after !== undefined && event.position <= options.after) return;
          if (matchesFilter(event, options.filter)) {
            queue.push({ kind: 'event', event });
            if (queue.length >= highWater) subscription.pause();
          }
          if (!caughtUp && head !== undefined && head !== null && event.position >= head) markCaughtUp();
          drainedAfterServerCaughtUp();
          signal();
        } catch (error) {
          failure = error;
          signal();
        }
      });
      subscription.on('error', (error) => {
        failure = translate(error);
        signal();
      });
      subscription.on('end', () => {
        ended = true;
        signal();
      });
      async function* run(): AsyncGenerator<SubscriptionMessage> {
        while (true) {
          const next = queue.shift();
          if (next) {
            if (queue.length < highWater / 2 && subscription.isPaused()) subscription.resume();
            yield next;
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => {
            notify = resolve;
          });
        }
      }
      const iterator = run();
      return {
        [Symbol.asyncIterator]: () => iterator,
        async close() {
          ended = true;
          signal();
          await subscription.unsubscribe();
          await iterator.return(undefined);
        },
      };
    },

    async headPosition() {
      return headOf(client);
    },

    async highestPosition() {
      // $all only grows: expired and truncated events leave later positions where they are.
      return headOf(client);
    },

    async setStreamMaxAge(streamId, maxAgeMs) {
      // EventStoreDB keeps $maxAge in whole seconds.
      await updateMetadata(streamId, {
        maxAge: maxAgeMs === null ? undefined : Math.max(1, Math.round(maxAgeMs / 1000)),
      });
    },

    async truncateStream(streamId, before) {
      await updateMetadata(streamId, { truncateBefore: Number(before) });
    },

    async scavenge() {
      return 0; // EventStoreDB hides expired events itself and removes them in its own scavenges
    },

    async close() {
      await client.dispose();
    },
  };
}
