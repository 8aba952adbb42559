import { ACTOR_CACHE_CATEGORY } from '../domain/actor-cache/facts.js';
import type { FactType } from '../domain/facts.js';

export { ACTOR_CACHE_CATEGORY, isActorCacheEvent } from '../domain/actor-cache/facts.js';

/**
 * The host's caches in the event store: snapshots of actors' state and the index of actors with work
 * in flight. They live with the log (same durability, same encryption, both adapters) in one
 * category, `actorcache`, whose events are never facts: readers of the whole log leave them out
 * (`isActorCacheEvent`), and only the newest event of each cache stream is kept.
 */
export const ACTOR_SNAPSHOT_TYPE = 'actorSnapshotted' satisfies FactType;
export const IN_FLIGHT_INDEX_TYPE = 'actorsInFlightIndexed' satisfies FactType;

/** `actorcache-snapshot-<actor stream>`: the newest snapshot of one actor. */
export const snapshotStreamOf = (streamId: string): string => `${ACTOR_CACHE_CATEGORY}-snapshot-${streamId}`;
/** `actorcache-inflight-<kind>`: which actors of a kind had work in flight, as of a log position. */
export const inFlightStreamOf = (kind: string): string => `${ACTOR_CACHE_CATEGORY}-inflight-${kind}`;
