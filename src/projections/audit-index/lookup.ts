import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import type { EventStore, Position } from '../../stores/event-store/port.js';
import { AUDIT_INDEX_TABLE } from './mapping.js';

/** The projection's name, as its checkpoints record it. */
const PROJECTION = 'audit_index';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What to look for in the index: every field given must match. */
export interface IndexFilter {
  readonly streamId?: string;
  readonly category?: string;
  readonly types?: readonly string[];
  readonly principal?: string;
  readonly correlationId?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Events with one of these ids. */
  readonly eventIds?: readonly string[];
  /** Events caused by one of these event ids. */
  readonly causationIds?: readonly string[];
}

export interface IndexRange {
  /** Exclusive. */
  readonly after?: Position;
  /** Exclusive. */
  readonly before?: Position;
  /** Inclusive: the index checkpoint (rows past it may be leftovers of a write that did not finish). */
  readonly upTo: Position;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
}

/**
 * How far the audit index is known to be complete: its checkpoint, when the checkpoint belongs to this
 * log (same store epoch, and the event it names is the one at its position, or gone); null when
 * nothing is indexed yet or the index cannot be trusted (the projection then halts, asking for a
 * rebuild). Rows up to it are exactly the log's events up to it (those since scavenged aside).
 */
export async function indexCheckpoint(
  analytics: AnalyticsStore,
  events: EventStore,
  /** Another projection whose rows are read the same way (complete up to its checkpoint). */
  projection: string = PROJECTION,
): Promise<Position | null> {
  const [row] = await queryRows<{ position: string; epoch: string; event_id: string }>(
    analytics,
    `SELECT toString(position) AS position, epoch, event_id
       FROM ${analytics.table('projection_checkpoints')}
      WHERE projection_name = {name:String} ORDER BY position DESC LIMIT 1`,
    { name: projection },
  );
  if (!row) return null;
  const position = BigInt(row.position);
  if (row.epoch && row.epoch !== (await events.identity()).epoch) return null;
  if (row.event_id) {
    const at = await events.readAt(position);
    if (at && at.id !== row.event_id) return null;
  }
  return position;
}

/** Positions of the indexed events that match, in log order or newest first, within the range. */
export async function indexedPositions(
  analytics: AnalyticsStore,
  filter: IndexFilter,
  range: IndexRange,
): Promise<Position[]> {
  const where = ['position <= {upTo:UInt64}'];
  const params: Record<string, unknown> = { upTo: range.upTo.toString(), limit: range.limit };
  const add = (clause: string, name: string, value: unknown) => {
    where.push(clause);
    params[name] = value;
  };
  if (range.after !== undefined) add('position > {after:UInt64}', 'after', range.after.toString());
  if (range.before !== undefined) add('position < {before:UInt64}', 'before', range.before.toString());
  if (filter.category !== undefined) add('category = {category:String}', 'category', filter.category);
  if (filter.streamId !== undefined) add('stream_id = {streamId:String}', 'streamId', filter.streamId);
  if (filter.types?.length) add('event_type IN {types:Array(String)}', 'types', filter.types);
  if (filter.principal !== undefined) add('principal = {principal:String}', 'principal', filter.principal);
  if (filter.correlationId !== undefined)
    add('correlation_id = {correlationId:String}', 'correlationId', filter.correlationId);
  if (filter.from !== undefined)
    add("created_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')", 'from', filter.from.getTime());
  if (filter.to !== undefined)
    add("created_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')", 'to', filter.to.getTime());
  if (filter.eventIds) {
    // The column is a UUID: anything else cannot be in it.
    const ids = filter.eventIds.filter((id) => UUID.test(id));
    if (!ids.length) return [];
    add('event_id IN {eventIds:Array(UUID)}', 'eventIds', ids);
  }
  if (filter.causationIds) {
    if (!filter.causationIds.length) return [];
    add('causation_id IN {causationIds:Array(String)}', 'causationIds', filter.causationIds);
  }
  // (An alias named `position` would stand for the column in WHERE: ClickHouse resolves aliases there.)
  const rows = await queryRows<{ at: string }>(
    analytics,
    `SELECT toString(position) AS at FROM ${analytics.table(AUDIT_INDEX_TABLE)}
      WHERE ${where.join(' AND ')}
      ORDER BY position ${range.order === 'asc' ? 'ASC' : 'DESC'}
      LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map((r) => BigInt(r.at));
}
