import { ACTOR_CACHE_CATEGORY, isActorCacheEvent } from '../actors/cache-streams.js';
import { type IndexFilter, indexCheckpoint, indexedPositions } from '../projections/audit-index/lookup.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import {
  categoryOf,
  type EventFilter,
  type EventStore,
  type Position,
  type RecordedEvent,
} from '../stores/event-store/port.js';

/** Where audit reads go: the log (the truth, full events) and the audit index (to find positions fast). */
export interface AuditSources {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
}

/** Which events: every field given must match (`from` inclusive, `to` exclusive, on the append time). */
export type EventQuery = Omit<IndexFilter, 'eventIds' | 'causationIds'>;

/**
 * How many events a request may read from the log past the index checkpoint (normally a few: the
 * index is a batch or two behind). Past it, a forward page ends early (with where it got to) and a
 * backward page is refused: the index is too far behind for the log to stand in for it.
 */
export const SCAN_BUDGET = 5000;

export class ScanBudgetError extends Error {
  readonly code = 'SCAN_BUDGET' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ScanBudgetError';
  }
}

const text = (event: RecordedEvent, key: string): string | undefined => {
  const value = event.metadata[key];
  return typeof value === 'string' ? value : undefined;
};

export function matchesQuery(event: RecordedEvent, q: EventQuery): boolean {
  // The actor host's caches (snapshots, in-flight index) are not facts: only asked for by name.
  if (isActorCacheEvent(event) && q.category !== ACTOR_CACHE_CATEGORY && q.streamId !== event.streamId)
    return false;
  return (
    (q.streamId === undefined || event.streamId === q.streamId) &&
    (q.category === undefined || event.category === q.category) &&
    (!q.types?.length || q.types.includes(event.type)) &&
    (q.principal === undefined || text(event, 'principal') === q.principal) &&
    (q.correlationId === undefined || text(event, 'correlationId') === q.correlationId) &&
    (q.from === undefined || event.createdAt >= q.from) &&
    (q.to === undefined || event.createdAt < q.to)
  );
}

/** The part of a query the store itself can filter on while reading the log. */
export function storeFilterOf(q: EventQuery): EventFilter {
  const category = q.category ?? (q.streamId !== undefined ? categoryOf(q.streamId) : undefined);
  return {
    ...(category !== undefined ? { categories: [category] } : {}),
    ...(q.types?.length ? { eventTypes: q.types } : {}),
  };
}

/** The events at these positions, from the log, in the order given; gone ones (scavenged) left out. */
export async function readPositions(
  events: EventStore,
  positions: readonly Position[],
): Promise<RecordedEvent[]> {
  const read = await Promise.all(positions.map((p) => events.readAt(p)));
  return read.filter((e): e is RecordedEvent => e !== null);
}

/**
 * Reads the log after `after` (and before `before`) through the store's filter, handing each event to
 * `visit` until it returns false or `budget` events are read. `exhausted`: the budget ran out first.
 */
export async function scanLog(
  events: EventStore,
  range: { readonly after?: Position; readonly before?: Position; readonly filter: EventFilter },
  visit: (event: RecordedEvent) => boolean,
  budget = SCAN_BUDGET,
): Promise<{ exhausted: boolean; last: Position | null }> {
  let read = 0;
  let last: Position | null = null;
  for await (const event of events.readAll({ after: range.after, filter: range.filter })) {
    if (range.before !== undefined && event.position >= range.before) break;
    last = event.position;
    if (!visit(event)) break;
    if (++read >= budget) return { exhausted: true, last };
  }
  return { exhausted: false, last };
}

export interface EventPage {
  /** In log order. */
  readonly events: RecordedEvent[];
  /** More match past the page (forwards: after it; backwards: before it). */
  readonly hasMore: boolean;
  /**
   * When the search stopped early (too many events looked at past the index checkpoint, or too many
   * index rows whose events are gone): every position up to here (forwards; down to here, backwards)
   * was looked at. Go on from it.
   */
  readonly scannedTo: Position | null;
}

/** Index rounds one page may take; each asks for four times more rows than the one before. */
const INDEX_ROUNDS = 6;

/**
 * Matching events from the index (positions up to `upTo`), read in full from the log, until `need`
 * are found. Rows whose events are gone from the log (samples past their retention) are passed over;
 * when the rounds run out first, `last` is the last position looked at (the page ends early there).
 */
async function fromIndex(
  sources: AuditSources,
  q: EventQuery,
  range: { after?: Position; before?: Position; upTo: Position; order: 'asc' | 'desc' },
  need: number,
  into: RecordedEvent[],
): Promise<{ exhausted: boolean; last: Position | null }> {
  let { after, before } = range;
  let last: Position | null = null;
  let ask = need - into.length;
  for (let round = 0; into.length < need; round++) {
    if (round === INDEX_ROUNDS) return { exhausted: true, last };
    const limit = Math.max(ask, need - into.length);
    ask = Math.min(ask * 4, 10_000);
    const positions = await indexedPositions(sources.analytics, q, { ...range, after, before, limit });
    // The log is the truth: each row is checked against the event it names.
    for (const event of await readPositions(sources.events, positions)) {
      if (into.length === need) break;
      if (matchesQuery(event, q)) into.push(event);
    }
    if (positions.length < limit) break;
    last = positions.at(-1)!;
    if (range.order === 'asc') after = last;
    else before = last;
  }
  return { exhausted: false, last };
}

/**
 * A page of the events that match, oldest first, after a position (exclusive). Positions up to the
 * audit index's checkpoint are found in the index and read in full from the log; the log past the
 * checkpoint (what the index has not got yet) is read directly, so an event is found right after it
 * is written.
 */
export async function eventsAfter(
  sources: AuditSources,
  q: EventQuery,
  after: Position | undefined,
  count: number,
): Promise<EventPage> {
  const need = count + 1;
  const found: RecordedEvent[] = [];
  const checkpoint = await indexCheckpoint(sources.analytics, sources.events);
  let tailAfter = after;
  if (checkpoint !== null && (after === undefined || after < checkpoint)) {
    const indexed = await fromIndex(sources, q, { after, upTo: checkpoint, order: 'asc' }, need, found);
    if (found.length >= need) return { events: found.slice(0, count), hasMore: true, scannedTo: null };
    if (indexed.exhausted) return { events: found, hasMore: true, scannedTo: indexed.last };
    tailAfter = checkpoint;
  }
  const scan = await scanLog(sources.events, { after: tailAfter, filter: storeFilterOf(q) }, (event) => {
    if (matchesQuery(event, q)) found.push(event);
    return found.length < need;
  });
  if (found.length >= need) return { events: found.slice(0, count), hasMore: true, scannedTo: null };
  return { events: found, hasMore: scan.exhausted, scannedTo: scan.exhausted ? scan.last : null };
}

/** A page of the events that match, the newest ones before a position (exclusive), in log order. */
export async function eventsBefore(
  sources: AuditSources,
  q: EventQuery,
  before: Position | undefined,
  count: number,
): Promise<EventPage> {
  const need = count + 1;
  const checkpoint = await indexCheckpoint(sources.analytics, sources.events);
  /** Newest first. */
  const found: RecordedEvent[] = [];
  if (checkpoint === null || before === undefined || before > checkpoint + 1n) {
    const newest: RecordedEvent[] = [];
    const scan = await scanLog(
      sources.events,
      { after: checkpoint ?? undefined, before, filter: storeFilterOf(q) },
      (event) => {
        if (matchesQuery(event, q)) {
          newest.push(event);
          if (newest.length > need) newest.shift();
        }
        return true;
      },
    );
    if (scan.exhausted)
      throw new ScanBudgetError(
        `the audit index is more than ${SCAN_BUDGET} events behind the log: page forwards (first/after) until it catches up`,
      );
    found.push(...newest.reverse());
  }
  if (checkpoint !== null && found.length < need) {
    const bound = before !== undefined && before <= checkpoint ? before : checkpoint + 1n;
    const indexed = await fromIndex(
      sources,
      q,
      { before: bound, upTo: checkpoint, order: 'desc' },
      need,
      found,
    );
    if (indexed.exhausted) return { events: found.reverse(), hasMore: true, scannedTo: indexed.last };
  }
  return { events: found.slice(0, count).reverse(), hasMore: found.length >= need, scannedTo: null };
}
