/**
 * The event store port: the log that is the source of truth. Every adapter (embedded SQLite,
 * EventStoreDB) implements this interface and passes the same contract suite
 * (test/integration/stores/event-store.contract.ts).
 */

/** Revision of an event inside its stream: 0 for the first event. */
export type StreamRevision = bigint;
/** Position of an event in the global log ($all). Strictly increasing in log order. */
export type Position = bigint;

/**
 * What the writer believes about the stream before appending.
 * - `any`: no check; - `noStream`: the stream must not exist; - `streamExists`: it must exist;
 * - a revision: the stream's last event must have exactly this revision.
 */
export type ExpectedRevision = 'any' | 'noStream' | 'streamExists' | StreamRevision;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Metadata = Record<string, JsonValue | undefined>;

export interface EventData {
  /** A UUID. Re-appending the same ids to the same stream is idempotent. */
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata?: Metadata;
}

export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  /** The part of the stream id before the first `-`. */
  readonly category: string;
  readonly revision: StreamRevision;
  readonly position: Position;
  readonly data: JsonValue;
  readonly metadata: Metadata;
  readonly createdAt: Date;
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream: the expected revision for the next append. */
  readonly nextExpectedRevision: StreamRevision;
  /** Global position of the last appended event. */
  readonly position: Position;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  readonly fromRevision?: StreamRevision | 'start' | 'end';
  readonly maxCount?: number;
}

/** Events pass when they match every given part: a category in `categories` and a type in `eventTypes`. */
export interface EventFilter {
  readonly categories?: readonly string[];
  readonly eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: read events strictly after this position. Omitted: from the beginning. */
  readonly after?: Position;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events strictly after this position. Omitted: from the beginning. */
  readonly after?: Position;
  readonly filter?: EventFilter;
}

export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /** Sent once, when the catch-up phase has delivered everything that existed at the time. */
  | { readonly kind: 'caughtUp' };

/** Catch-up then live, in log order, with no gap and no duplicate at the hand-over. */
export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  close(): Promise<void>;
}

/** Who the store is: an epoch id written when the store was created, the same for as long as it lives. */
export interface StoreIdentity {
  readonly epoch: string;
}

export interface EventStore {
  /** For logs and health: `sqlite` or `eventstoredb`. */
  readonly kind: string;
  /**
   * The store's identity. Checkpoints kept outside the store (ClickHouse) record it, so that one
   * written against another store, or a store that was replaced, is recognised and never trusted.
   */
  identity(): Promise<StoreIdentity>;
  append(streamId: string, events: readonly EventData[], options?: AppendOptions): Promise<AppendResult>;
  /** A stream that does not exist reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** The event at exactly this global position, or null when there is none (never was, or removed). */
  readAt(position: Position): Promise<RecordedEvent | null>;
  /**
   * The event of this stream with this id, or null. The embedded store looks it up by its index;
   * EventStoreDB, which has no index by id, searches the stream's newest `FIND_EVENT_DEPTH` events.
   */
  findEvent(streamId: string, eventId: string): Promise<RecordedEvent | null>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  /** Position of the newest event in the log, or null when the log is empty. */
  headPosition(): Promise<Position | null>;
  /**
   * The highest position the store has ever given an event, removed events included (null: none
   * yet). Positions are never given twice while the store lives, so a checkpoint past this is a
   * checkpoint of a log this store no longer is.
   */
  highestPosition(): Promise<Position | null>;
  /**
   * Events of this stream older than `maxAgeMs` stop being kept (EventStoreDB's `$maxAge`); null keeps
   * them forever. Revisions go on from where they were.
   */
  setStreamMaxAge(streamId: string, maxAgeMs: number | null): Promise<void>;
  /**
   * Stops keeping this stream's events before revision `before` (EventStoreDB's `$tb`): reads of the
   * stream start there, and revisions and expected revisions go on unchanged. For caches kept in a
   * stream (checkpoints), never for facts.
   */
  truncateStream(streamId: string, before: StreamRevision): Promise<void>;
  /**
   * Deletes events past their stream's max age, but none after `upTo` (so that nothing a reader has
   * not yet read disappears). The embedded store needs this called; EventStoreDB scavenges itself and
   * hides expired events at once. Returns how many events were removed.
   */
  scavenge(upTo: Position): Promise<number>;
  close(): Promise<void>;
}

/** How far back EventStoreDB's `findEvent` searches a stream (it has no index by event id). */
export const FIND_EVENT_DEPTH = 1000;

export class WrongExpectedVersionError extends Error {
  readonly code = 'WRONG_EXPECTED_VERSION' as const;
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or null when it does not exist. */
    readonly actual: StreamRevision | null,
  ) {
    super(
      `append to ${streamId}: expected revision ${String(expected)}, stream is at ${actual === null ? 'no stream' : String(actual)}`,
    );
    this.name = 'WrongExpectedVersionError';
  }
}

export class EventStoreUnavailableError extends Error {
  readonly code = 'EVENT_STORE_UNAVAILABLE' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}

/** The store's file or server is damaged: the message names what and the remedy. */
export class EventStoreDamagedError extends Error {
  readonly code = 'EVENT_STORE_DAMAGED' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventStoreDamagedError';
  }
}

export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash === -1 ? streamId : streamId.slice(0, dash);
}

export function matchesFilter(
  event: Pick<RecordedEvent, 'category' | 'type'>,
  filter?: EventFilter,
): boolean {
  if (!filter) return true;
  if (filter.categories && !filter.categories.includes(event.category)) return false;
  if (filter.eventTypes && !filter.eventTypes.includes(event.type)) return false;
  return true;
}
