import {
  type AllStreamResolvedEvent,
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type Position as EsdbPosition,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  type EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  UnavailableError,
} from '@eventstore/db-client';
import {
  categoryOf,
  type EventFilter,
  type EventStore,
  EventStoreUnavailableError,
  type ExpectedRevision,
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

function serverFilter(filter: EventFilter | undefined): Filter {
  if (filter?.categories?.length)
    return streamNameFilter({ prefixes: filter.categories.map((c) => `${c}-`) });
  if (filter?.eventTypes?.length) {
    const escaped = filter.eventTypes.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return eventTypeFilter({ regex: `^(${escaped.join('|')})$` });
  }
  return excludeSystemEvents();
}

/** The EventStoreDB / KurrentDB adapter. The client is owned by the caller (the composition root). */
export function createEsdbEventStore(client: EventStoreDBClient): EventStore {
  return {
    kind: 'eventstoredb',

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
      const subscription = client.subscribeToAll({
        fromPosition: options.after === undefined ? START : decodeEsdbPosition(options.after),
        filter: serverFilter(options.filter),
      });
      // A bounded hand-off queue: the gRPC stream is paused while the consumer is behind.
      const queue: SubscriptionMessage[] = [];
      const highWater = 1000;
      let failure: unknown = null;
      let ended = false;
      let notify: (() => void) | null = null;
      const signal = (): void => {
        notify?.();
        notify = null;
      };
      subscription.on('data', (resolved: AllStreamResolvedEvent) => {
        const event = toRecorded(resolved);
        if (!event || !matchesFilter(event, options.filter)) return;
        if (options.after !== undefined && event.position <= options.after) return;
        queue.push({ kind: 'event', event });
        if (queue.length >= highWater) subscription.pause();
        signal();
      });
      subscription.on('caughtUp', () => {
        queue.push({ kind: 'caughtUp' });
        signal();
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
        let sentCaughtUp = false;
        while (true) {
          const next = queue.shift();
          if (next) {
            if (queue.length < highWater / 2 && subscription.isPaused()) subscription.resume();
            if (next.kind === 'caughtUp') {
              if (sentCaughtUp) continue;
              sentCaughtUp = true;
            }
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
      try {
        for await (const resolved of client.readAll({
          direction: BACKWARDS,
          fromPosition: END,
          maxCount: 50,
        })) {
          const event = toRecorded(resolved);
          if (event) return event.position;
        }
        return null;
      } catch (error) {
        throw translate(error);
      }
    },

    async close() {
      await client.dispose();
    },
  };
}
