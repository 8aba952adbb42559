import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpiry, RECORD_TABLES, RETENTION_STREAM } from '../../../src/retention/expiry.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
/** Each table gets one row at each of these ages (days). */
const AGES = [400, 100, 40, 10, 1];

describe('retention of every kind of record, on a clock the test controls', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;

  beforeAll(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'retention_t', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    for (const tables of Object.values(RECORD_TABLES))
      for (const { table, column } of tables)
        await analytics.client.insert({
          table: analytics.table(table),
          values: AGES.map((age, i) => ({
            [column]: NOW - age * DAY,
            series_id: String(i + 1),
            position: String(i + 1),
          })),
          format: 'JSONEachRow',
        });
  }, 60_000);

  afterAll(async () => {
    await analytics?.close();
    await events?.close();
  });

  const ages = async (table: string, column: string) =>
    (
      await queryRows<{ t: string }>(
        analytics,
        `SELECT toUnixTimestamp64Milli(${column}) AS t FROM ${analytics.table(table)} ORDER BY t`,
      )
    ).map((r) => Math.round((NOW - Number(r.t)) / DAY));

  it('expires each kind past its days, keeps what a consumer still reads, and records each run', async () => {
    const expiry = createExpiry({
      analytics,
      events,
      logger: silentLogger,
      now: () => NOW,
      intervalMs: 3_600_000,
      days: { findings: 30, alerts: 60, predictions: 5, forecasts: 50, auditIndex: 0 },
      // A learning pipeline reads alert labels from 200 days back: alerts are held there.
      holds: async (kind) =>
        kind === 'alerts' ? { from: NOW - 200 * DAY, by: 'learningpipeline-fp' } : null,
    });
    const facts = await expiry.run();
    for (const { table, column } of RECORD_TABLES.findings)
      expect(await ages(table, column)).toEqual([10, 1]);
    expect(await ages('alerts', 'at')).toEqual([100, 40, 10, 1]);
    expect(await ages('predictions', 'ts')).toEqual([1]);
    for (const { table, column } of RECORD_TABLES.forecasts)
      expect(await ages(table, column)).toEqual([40, 10, 1]);
    // 0: kept forever.
    expect(await ages('audit_index', 'created_at')).toEqual(AGES);

    expect(facts.map((f) => [f.kind, f.before, f.heldBy])).toEqual([
      ['findings', NOW - 30 * DAY, null],
      ['alerts', NOW - 200 * DAY, 'learningpipeline-fp'],
      ['predictions', NOW - 5 * DAY, null],
      ['forecasts', NOW - 50 * DAY, null],
    ]);
    expect(facts[0]!.tables.every((t) => t.removed === 3)).toBe(true);
    expect(facts[1]!.tables).toEqual([{ table: 'alerts', removed: 1 }]);
    const recorded = [];
    for await (const e of events.readStream(RETENTION_STREAM)) recorded.push(e);
    expect(recorded.map((e) => [e.type, (e.data as { kind: string }).kind, e.metadata.principal])).toEqual([
      ['recordsExpired', 'findings', 'system:retention'],
      ['recordsExpired', 'alerts', 'system:retention'],
      ['recordsExpired', 'predictions', 'system:retention'],
      ['recordsExpired', 'forecasts', 'system:retention'],
    ]);

    // A second run finds nothing more to remove, and says so.
    const again = await expiry.run();
    expect(again.flatMap((f) => f.tables).every((t) => t.removed === 0)).toBe(true);
  }, 60_000);
});
