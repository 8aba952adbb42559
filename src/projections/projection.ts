import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventFilter, Position, RecordedEvent } from '../stores/event-store/port.js';

/** A row for JSONEachRow: 64-bit integers as strings. Every row carries the `position` of its event. */
export type Row = Record<string, string | number | boolean | null> & { position: string };

/**
 * A named read model fed from the log. `write` must be deterministic (the same events always give
 * the same rows): after a crash the runner removes what was written past the checkpoint and writes
 * those events again.
 */
export interface Projection {
  readonly name: string;
  readonly filter?: EventFilter;
  /** The tables it owns (names without the database); `rebuild` truncates them. */
  readonly tables: readonly string[];
  /**
   * Events written together at most, whatever the setting says (default: no bound of its own): its
   * preparation of a batch runs on the event loop in one piece, so large events want smaller batches.
   */
  readonly maxBatch?: number;
  /**
   * Optional CPU-only preparation of a batch (decoding, encoding). The runner prepares the next batch
   * while the previous one is being written, and passes the result to `write`.
   */
  prepare?(events: readonly RecordedEvent[]): unknown;
  write(events: readonly RecordedEvent[], analytics: AnalyticsStore, prepared?: unknown): Promise<void>;
  /**
   * Removes everything written for events after `checkpoint` (null: everything). The default deletes
   * rows whose `position` column is past it from every table.
   */
  recover?(analytics: AnalyticsStore, checkpoint: Position | null): Promise<void>;
}

/** Deletes rows past the checkpoint from each table (each has a `position UInt64` column). */
export async function deleteRowsAfter(
  analytics: AnalyticsStore,
  tables: readonly string[],
  checkpoint: Position | null,
): Promise<number> {
  let removed = 0;
  const after = (checkpoint ?? 0n).toString();
  for (const table of tables) {
    const name = analytics.table(table);
    const result = await analytics.client.query({
      query: `SELECT count() AS n FROM ${name} WHERE position > {after:UInt64}`,
      query_params: { after },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    if (row && row.n !== '0') {
      removed += Number(row.n);
      await analytics.client.command({
        query: `DELETE FROM ${name} WHERE position > {after:UInt64}`,
        query_params: { after },
      });
    }
  }
  return removed;
}

/** A projection whose events map to rows (pure), inserted as JSONEachRow: fine for modest volumes. */
export function rowsProjection(definition: {
  name: string;
  filter?: EventFilter;
  tables: readonly string[];
  map(events: readonly RecordedEvent[]): Readonly<Record<string, readonly Row[]>>;
}): Projection & { map: typeof definition.map } {
  return {
    ...definition,
    async write(events, analytics) {
      const rowsByTable = definition.map(events);
      for (const table of definition.tables) {
        const rows = rowsByTable[table];
        if (rows?.length) {
          await analytics.client.insert({
            table: analytics.table(table),
            values: [...rows],
            format: 'JSONEachRow',
          });
        }
      }
    },
  };
}
