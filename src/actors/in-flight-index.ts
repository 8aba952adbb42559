import { createHash } from 'node:crypto';
import { ActorsInFlightIndexed } from '../domain/actor-cache/facts.js';
import type { EventStore, JsonValue, Position } from '../stores/event-store/port.js';
import { IN_FLIGHT_INDEX_TYPE, inFlightStreamOf } from './cache-streams.js';

/**
 * Which actors of a kind had work in flight (their last event left them in a state that invokes an
 * actor), as of a log position. It is a cache of a fold of the category's log up to that position:
 * `recover()` reads it, then only the category's events after it, so a restart does not read whole
 * categories. Kept in `actorcache-inflight-<kind>`, the newest only; written after the read it
 * stands for, so a crash at any point leaves an older index and more of the log to read, never a
 * wrong answer. An index made for other invoking states (a changed machine) is not used.
 */
export interface InFlightIndex {
  readonly position: Position;
  readonly streamIds: readonly string[];
}

const keyOf = (invoking: ReadonlySet<string>): string =>
  createHash('sha256')
    .update(JSON.stringify([...invoking].sort()))
    .digest('hex')
    .slice(0, 32);

export async function readInFlightIndex(
  store: EventStore,
  kind: string,
  invoking: ReadonlySet<string>,
): Promise<InFlightIndex | null> {
  try {
    for await (const event of store.readStream(inFlightStreamOf(kind), {
      direction: 'backwards',
      fromRevision: 'end',
      maxCount: 1,
    })) {
      if (event.type !== IN_FLIGHT_INDEX_TYPE) return null;
      const parsed = ActorsInFlightIndexed.safeParse(event.data);
      if (!parsed.success) return null;
      const data = parsed.data;
      if (data.invoking !== keyOf(invoking)) return null;
      const prefix = `${kind}-`;
      if (!data.streamIds.every((s) => s.startsWith(prefix))) return null;
      const position = BigInt(data.position);
      // An index past the log's end was not made from this log.
      const highest = await store.highestPosition();
      if (highest === null || position > highest) return null;
      return { position, streamIds: data.streamIds };
    }
  } catch {
    return null;
  }
  return null;
}

/** Appends the index, then drops the older ones. */
export async function writeInFlightIndex(
  store: EventStore,
  kind: string,
  invoking: ReadonlySet<string>,
  index: InFlightIndex,
  id: string,
): Promise<void> {
  const stream = inFlightStreamOf(kind);
  const data: JsonValue = {
    invoking: keyOf(invoking),
    position: index.position.toString(),
    streamIds: [...index.streamIds].sort(),
  };
  const written = await store.append(stream, [
    { id, type: IN_FLIGHT_INDEX_TYPE, data, metadata: { principal: 'system:actor-host', schemaVersion: 1 } },
  ]);
  if (written.nextExpectedRevision > 0n) await store.truncateStream(stream, written.nextExpectedRevision);
}
