/**
 * Runs the audit index projection in its own process (chDB binds one data directory per process).
 * Usage: node --import tsx test/support/projection-child.ts <events.db> <chdb dir> <stage|complete> [batch]
 * - `<stage> <batch>`: SIGKILLs itself at that stage of that batch (`duringInsert` kills while the
 *   insert is in flight);
 * - `complete`: projects up to the head, prints the table's count and checksums as JSON, exits.
 */

import { auditIndexProjection } from '../../src/projections/audit-index/index.js';
import { createProjectionRunner } from '../../src/projections/runner.js';
import { openAnalyticsStore, queryRows } from '../../src/stores/clickhouse/client.js';
import { migrate } from '../../src/stores/clickhouse/migrations.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { silentLogger } from './fixtures.js';

const [dbPath, chDir, mode, batchArg] = process.argv.slice(2);
if (!dbPath || !chDir || !mode)
  throw new Error('usage: projection-child <events.db> <chdb dir> <stage|complete> [batch]');
const crashBatch = Number(batchArg ?? 0);
const die = () => process.kill(process.pid, 'SIGKILL');

const events = createSqliteEventStore({ path: dbPath });
const analytics = await openAnalyticsStore({ database: 'test', dataDir: chDir });
await migrate(analytics, silentLogger);
const runner = createProjectionRunner({
  projection: auditIndexProjection,
  events,
  analytics,
  logger: silentLogger,
  batchSize: 500,
  onStage: (stage, batch) => {
    if (mode === 'complete' || batch !== crashBatch) return;
    if (mode === 'duringInsert' && stage === 'beforeInsert') setImmediate(die);
    else if (stage === mode) die();
  },
});
await runner.start();
await runner.waitFor();
if (mode !== 'complete') {
  process.stdout.write('NO CRASH\n');
  process.exit(3);
}
const [summary] = await queryRows<Record<string, string>>(
  analytics,
  `SELECT count() AS rows, uniqExact(position) AS positions, toString(sum(position)) AS positionSum,
          toString(sum(cityHash64(position, stream_id, revision, event_id, event_type, created_at, principal,
                                   correlation_id, causation_id, state))) AS checksum
     FROM test.audit_index`,
);
process.stdout.write(`${JSON.stringify({ ...summary, status: await runner.status() })}\n`);
await runner.stop();
await analytics.close();
await events.close();
