import { join } from 'node:path';
import { metricSeriesProjection } from '../../src/projections/metric-series/index.js';
import { createProjectionRunner, type ProjectionRunner } from '../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore } from '../../src/stores/clickhouse/client.js';
import { migrate } from '../../src/stores/clickhouse/migrations.js';
import type { EventStore } from '../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from './fixtures.js';

/** A fresh embedded log and chDB database, migrated, with the metric-series projection's runner (not started). */
export async function metricSeriesStores(
  database: string,
): Promise<{ events: EventStore; analytics: AnalyticsStore; runner: ProjectionRunner }> {
  const dir = tempDir();
  const events = createSqliteEventStore({ path: join(dir, 'events.db') });
  const analytics = await openAnalyticsStore({ database, dataDir: join(dir, 'clickhouse') });
  await migrate(analytics, silentLogger);
  const runner = createProjectionRunner({
    projection: metricSeriesProjection(),
    events,
    analytics,
    logger: silentLogger,
  });
  return { events, analytics, runner };
}
