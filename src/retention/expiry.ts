import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { factVersion } from '../domain/facts.js';
import type { RecordKind, RecordsExpired } from '../domain/retention/facts.js';
import { envelope } from '../runtime/envelope.js';
import { createTicker } from '../runtime/ticker.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';
import { removeRows } from './remove-rows.js';

export const RETENTION_STREAM = 'retention-main';

/** Where each kind of record is kept, and the time its retention counts from. */
export const RECORD_TABLES: Readonly<Record<RecordKind, readonly { table: string; column: string }[]>> = {
  findings: [
    { table: 'anomalies', column: 'ts' },
    { table: 'trends', column: 'ts' },
    { table: 'patterns', column: 'ts' },
    { table: 'periodicity', column: 'ts' },
    { table: 'quality_findings', column: 'found_at' },
    { table: 'late_samples', column: 'ts' },
  ],
  alerts: [{ table: 'alerts', column: 'at' }],
  predictions: [{ table: 'predictions', column: 'ts' }],
  forecasts: [
    { table: 'forecasts', column: 'ts' },
    { table: 'forecast_errors', column: 'ts' },
  ],
  auditIndex: [{ table: 'audit_index', column: 'created_at' }],
};

/** The earliest time a consumer still reads a kind of record (and who), or null when none does. */
export type Holds = (kind: RecordKind, now: number) => Promise<{ from: number; by: string } | null>;

export interface Expiry {
  start(): void;
  stop(): Promise<void>;
  /** One expiry run now: each kind with a retention loses its rows before the cutoff; one fact each. */
  run(): Promise<RecordsExpired[]>;
}

export interface ExpiryOptions {
  readonly analytics: AnalyticsStore;
  readonly events: EventStore;
  readonly logger: Logger;
  /** Days each kind is kept (0: forever). */
  readonly days: Readonly<Record<RecordKind, number>>;
  readonly holds?: Holds;
  readonly intervalMs: number;
  readonly now?: () => number;
}

const DAY = 86_400_000;

/**
 * Expiry of the records kept beside the samples (findings, alerts, predictions, forecasts, the audit
 * index): every `intervalMs`, each kind with a retention loses the rows older than its cutoff — never
 * the rows a consumer still reads (a learning pipeline's window of alert or anomaly labels holds them
 * back) — by a synchronous delete, and then a `recordsExpired` fact says what went, up to where. The
 * log itself is untouched: a projection rebuilt from it writes the rows again (and the next run
 * expires them). Samples keep their ClickHouse TTL (`SAMPLES_RETENTION_DAYS` …).
 */
export function createExpiry(options: ExpiryOptions): Expiry {
  const { analytics, events } = options;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'retention' });

  async function expire(kind: RecordKind, days: number, at: number): Promise<RecordsExpired> {
    let before = at - days * DAY;
    let heldBy: string | null = null;
    const hold = await options.holds?.(kind, at);
    if (hold && hold.from < before) {
      before = hold.from;
      heldBy = hold.by;
    }
    const tables: RecordsExpired['tables'] = [];
    for (const { table, column } of RECORD_TABLES[kind]) {
      const where = `${column} < fromUnixTimestamp64Milli(toInt64({before:Int64}), 'UTC')`;
      const removed = await removeRows(analytics, table, where, { before });
      tables.push({ table, removed });
    }
    const fact: RecordsExpired = { kind, at, days, before, heldBy, tables };
    const id = randomUUID();
    await events.append(RETENTION_STREAM, [
      {
        id,
        type: 'recordsExpired',
        data: fact,
        metadata: envelope(
          { principal: 'system:retention', schemaVersion: factVersion('recordsExpired') },
          id,
        ),
      },
    ]);
    const removed = tables.reduce((n, t) => n + t.removed, 0);
    if (removed)
      log.info({ kind, removed, before: new Date(before).toISOString(), heldBy }, 'expired records');
    return fact;
  }

  async function run(): Promise<RecordsExpired[]> {
    const at = now();
    const out: RecordsExpired[] = [];
    for (const [kind, days] of Object.entries(options.days) as [RecordKind, number][])
      if (days > 0) out.push(await expire(kind, days, at));
    return out;
  }

  const ticker = createTicker(async () => {
    await run().catch((error: unknown) => log.error({ err: error }, 'expiry run failed; tried again later'));
  }, options.intervalMs);

  return { start: () => ticker.start(), stop: () => ticker.stop(), run };
}
