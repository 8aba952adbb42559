import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import pino from 'pino';
import { createActorHost } from './actors/host.js';
import { modelKind } from './actors/model.kind.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { auditIndexProjection } from './projections/audit-index/index.js';
import { createProjectionRunner } from './projections/runner.js';
import { buildApp } from './server/app.js';
import { openAnalyticsStore } from './stores/clickhouse/client.js';
import { migrate } from './stores/clickhouse/migrations.js';
import { createEsdbEventStore } from './stores/event-store/esdb.js';
import type { EventStore } from './stores/event-store/port.js';
import { createSqliteEventStore } from './stores/event-store/sqlite.js';

/** The composition root: the one place that picks adapters and wires them together. */
function openEventStore(config: Config): EventStore {
  if (config.EVENTSTORE_URL) {
    return createEsdbEventStore(EventStoreDBClient.connectionString`${config.EVENTSTORE_URL}`);
  }
  return createSqliteEventStore({
    path: join(resolve(config.DATA_DIR), 'events.db'),
    synchronous: config.EVENTSTORE_SYNC,
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.LOG_LEVEL });
  const version = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;

  const events = openEventStore(config);
  const analytics = await openAnalyticsStore({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    dataDir: join(resolve(config.DATA_DIR), 'clickhouse'),
  });
  const migrations = await migrate(analytics, logger);
  const host = createActorHost({ store: events, kinds: [modelKind()], logger });
  const projections = [
    createProjectionRunner({
      projection: auditIndexProjection,
      events,
      analytics,
      logger,
      batchSize: config.PROJECTION_BATCH_SIZE,
    }),
  ];
  const app = buildApp({ events, analytics, host, projections, logger, migrations, version });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.start({ port: config.PORT, host: config.HOST });
  const resumed = await host.recover();
  if (resumed > 0) logger.info({ resumed }, 'resumed actors with work in flight');
}

main().catch((error) => {
  process.stderr.write(
    `ALL-USE Learning failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
