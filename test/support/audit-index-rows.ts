import { AUDIT_INDEX_TABLE } from '../../src/projections/audit-index/mapping.js';
import { type AnalyticsStore, queryRows } from '../../src/stores/clickhouse/client.js';

export interface AuditEntry {
  readonly position: string;
  readonly streamId: string;
  readonly revision: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly createdAt: string;
  readonly principal: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly state: string;
}

export interface AuditQuery {
  readonly streamId?: string;
  readonly correlationId?: string;
  readonly principal?: string;
  readonly eventType?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly limit?: number;
}

/** The audit index rows matching every given field, oldest first (log order): what the tests check the index holds. */
export async function findAuditEntries(store: AnalyticsStore, query: AuditQuery): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: Math.min(Math.max(query.limit ?? 100, 1), 10_000) };
  if (query.streamId !== undefined) {
    where.push('stream_id = {streamId:String}');
    params.streamId = query.streamId;
  }
  if (query.correlationId !== undefined) {
    where.push('correlation_id = {correlationId:String}');
    params.correlationId = query.correlationId;
  }
  if (query.principal !== undefined) {
    where.push('principal = {principal:String}');
    params.principal = query.principal;
  }
  if (query.eventType !== undefined) {
    where.push('event_type = {eventType:String}');
    params.eventType = query.eventType;
  }
  if (query.from !== undefined) {
    where.push("created_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')");
    params.from = query.from.getTime();
  }
  if (query.to !== undefined) {
    where.push("created_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')");
    params.to = query.to.getTime();
  }
  return queryRows<AuditEntry>(
    store,
    `SELECT toString(position) AS position, stream_id AS streamId, toString(revision) AS revision,
            toString(event_id) AS eventId, event_type AS eventType, toString(created_at) AS createdAt,
            principal, correlation_id AS correlationId, causation_id AS causationId, state
       FROM ${store.table(AUDIT_INDEX_TABLE)}
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY position
      LIMIT {limit:UInt32}`,
    params,
  );
}
