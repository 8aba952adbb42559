import { v5 as uuidv5 } from 'uuid';
import type { EventStore, JsonValue, Metadata } from '../stores/event-store/port.js';
import type { Spool } from './spool.js';

const NAMESPACE = '5f1d2c3b-7a6e-4f80-9b1c-2d3e4f5a6b7c';
/** Keys (and their answers) remembered in memory; older ones are found in the log or the spool. */
const REMEMBERED = 100_000;
/** A key: what a client may send as `Idempotency-Key` (or `id` on `ingestMetrics`). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** What a keyed request's event carries, so that a retry is answered the same. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly response: JsonValue;
}

export function idempotencyOf(metadata: Metadata | undefined): IdempotencyRecord | null {
  const value = metadata?.idempotency;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const { key, response } = value as { key?: unknown; response?: JsonValue };
  return typeof key === 'string' && response !== undefined ? { key, response } : null;
}

/**
 * Where a retried request's first answer is found: a request with the key still in flight, the keys
 * this process made durable, the spool, then the log itself (the request's event id derives from its
 * key, so the store finds it by id, across restarts).
 */
export function createIdempotency(options: {
  agentId: string;
  streamId: string;
  events: EventStore;
  spool: Spool;
}) {
  const inFlight = new Map<string, Promise<Accepted & { duplicate: boolean }>>();
  const remembered = new Map<string, JsonValue>();

  const eventIdOf = (key: string) => uuidv5(`${options.agentId}:${key}`, NAMESPACE);

  async function find(key: string): Promise<JsonValue | undefined> {
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const eventId = eventIdOf(key);
    const spooled = idempotencyOf(options.spool.metadataOf(eventId));
    if (spooled) return spooled.response;
    let event: Awaited<ReturnType<EventStore['findEvent']>>;
    try {
      event = await options.events.findEvent(options.streamId, eventId);
    } catch {
      // The log cannot be asked (it is down): take the request (to the spool). Its event id derives
      // from the key, so if the first one did land, appending or replaying it finds that and records
      // nothing twice.
      return undefined;
    }
    return event ? (idempotencyOf(event.metadata)?.response ?? null) : undefined;
  }

  return {
    eventIdOf,

    /**
     * Runs `first` for a key seen for the first time, and remembers its answer once it is durable. A
     * request with a key already answered, or still on its way to durability (even when the first
     * caller stopped waiting), gets that answer and the same durability, with `duplicate: true`.
     */
    async once(
      key: string,
      first: () => Promise<Accepted> | Accepted,
    ): Promise<Accepted & { duplicate: boolean }> {
      const running = inFlight.get(key);
      if (running) return { ...(await running), duplicate: true };
      const work = (async (): Promise<Accepted & { duplicate: boolean }> => {
        const found = await find(key);
        if (found !== undefined) return { response: found, durable: Promise.resolve(), duplicate: true };
        return { ...(await first()), duplicate: false };
      })();
      inFlight.set(key, work);
      let result: Accepted & { duplicate: boolean };
      try {
        result = await work;
      } catch (error) {
        inFlight.delete(key);
        throw error;
      }
      void result.durable.then(() => {
        inFlight.delete(key);
        remembered.set(key, result.response);
        if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value!);
      });
      return result;
    },
  };
}

/** A request taken: its answer, and when it is durable. */
export interface Accepted {
  readonly response: JsonValue;
  readonly durable: Promise<void>;
}
