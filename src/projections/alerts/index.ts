import { readFactOf } from '../../domain/facts.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import { type Row, rowsProjection } from '../projection.js';

export const ALERTS_TABLE = 'alerts';
const TRANSITIONS = [
  'alertPending',
  'alertFired',
  'alertEscalated',
  'alertResolved',
  'alertAcknowledged',
] as const;

/** Alert transitions from `alertmanager-<id>` streams, one row each. */
export const alertsProjection = rowsProjection({
  name: 'alerts',
  filter: { categories: ['alertmanager'], eventTypes: [...TRANSITIONS] },
  tables: [ALERTS_TABLE],
  map: (events) => ({
    [ALERTS_TABLE]: events.map((event): Row => {
      const fact = readFactOf(event, ...TRANSITIONS);
      const d = fact.data;
      return {
        manager_id: event.streamId.slice('alertmanager-'.length),
        alert_key: d.key,
        rule: d.rule,
        series_id: d.seriesId,
        labels: d.labels as unknown as string,
        transition: event.type,
        severity: d.severity,
        value: d.value,
        at: clickhouseTime(new Date(d.at)),
        acknowledged_by: fact.type === 'alertAcknowledged' ? fact.data.by : '',
        position: event.position.toString(),
      };
    }),
  }),
});

export interface AlertRow {
  readonly alertKey: string;
  readonly rule: string;
  readonly seriesId: string;
  readonly transition: string;
  readonly severity: string;
  readonly value: number;
  readonly at: number;
  /** Who acknowledged it (acknowledgements only). */
  readonly by: string | null;
  readonly position: string;
}

/** Alert transitions in a time range, optionally for one rule or at one severity; oldest first. */
export async function findAlertTransitions(
  store: AnalyticsStore,
  query: { from: Date; to: Date; rule?: string; severity?: string; limit?: number; offset?: number },
): Promise<AlertRow[]> {
  const rows = await queryRows<Omit<AlertRow, 'at' | 'by'> & { atMs: string; ackBy: string }>(
    store,
    `SELECT alert_key AS alertKey, rule, toString(series_id) AS seriesId, transition, severity, value,
            toUnixTimestamp64Milli(at) AS atMs, acknowledged_by AS ackBy, toString(position) AS position
       FROM ${store.table(ALERTS_TABLE)}
      WHERE at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
        ${query.rule ? 'AND rule = {rule:String}' : ''} ${query.severity ? 'AND severity = {severity:String}' : ''}
      ORDER BY at, position LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    {
      from: query.from.getTime(),
      to: query.to.getTime(),
      rule: query.rule,
      severity: query.severity,
      limit: query.limit ?? 10_000,
      offset: query.offset ?? 0,
    },
  );
  return rows.map(({ atMs, ackBy, ...row }) => ({
    ...row,
    at: Number(atMs),
    by: ackBy === '' ? null : ackBy,
  }));
}
