import { z } from 'zod';
import { UInt64Text } from '../primitives.js';

/** The category of the actor host's caches in the log. */
export const ACTOR_CACHE_CATEGORY = 'actorcache';

/** True for the host's cache events: not facts, left out by every reader of the log as a whole. */
export function isActorCacheEvent(event: { readonly category: string }): boolean {
  return event.category === ACTOR_CACHE_CATEGORY;
}

/**
 * The actor host's caches in the log (category `actorcache`): an actor's newest snapshot, and which
 * actors of a kind had work in flight as of a log position. Not facts of the domain: readers of the
 * whole log leave them out; each stream keeps only its newest event.
 */

/** A fold of an actor's stream up to `revision`, as the host folded it (see src/actors/snapshots.ts). */
export const ActorSnapshotted = z.object({
  streamId: z.string(),
  /** The machine it was folded with: its version and a hash of its definition. */
  machine: z.string(),
  revision: UInt64Text,
  /** The id of the event at `revision`: used only while the stream still has it there. */
  lastEventId: z.string(),
  /** The first event the fold read: a stream that no longer starts there is not the one folded. */
  first: z.object({ revision: UInt64Text, id: z.string() }),
  /** The machine's persisted snapshot. */
  state: z.record(z.string(), z.unknown()),
  /** Command ids already recorded: [command id, event id, position, revision]. */
  commands: z.array(z.tuple([z.string(), z.string(), UInt64Text, UInt64Text])),
  /** Invoked actors in flight: [child id, what starts it again]. */
  pending: z.array(
    z.tuple([
      z.string(),
      z.object({
        src: z.string(),
        input: z.unknown(),
        triggerEventId: z.string(),
        correlationId: z.string(),
      }),
    ]),
  ),
  /** sha-256 of the rest: a payload changed after it was written is not used. */
  digest: z.string(),
});
export type ActorSnapshotted = z.infer<typeof ActorSnapshotted>;

/** The actors of a kind with work in flight as of `position` (see src/actors/in-flight-index.ts). */
export const ActorsInFlightIndexed = z.object({
  /** A hash of the machine's invoking states: an index made for others is not used. */
  invoking: z.string(),
  position: UInt64Text,
  streamIds: z.array(z.string()),
});
export type ActorsInFlightIndexed = z.infer<typeof ActorsInFlightIndexed>;

export const ACTOR_CACHE_FACTS = {
  actorSnapshotted: ActorSnapshotted,
  actorsInFlightIndexed: ActorsInFlightIndexed,
} as const;
