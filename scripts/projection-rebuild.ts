/**
 * `npm run projection:rebuild -- NAME [NAME…]` (or `--all`): forgets what the named projections wrote
 * to ClickHouse (checkpoint first, then their tables), so that the next start of the service projects
 * the whole log again. The remedy a projection names when it halts on a checkpoint that does not
 * belong to the log (another store, ahead of the log, a rewound log). Reads the same settings as the
 * service (DATA_DIR, CLICKHOUSE_*). With the embedded ClickHouse, stop the service first: its data
 * directory is open in one process at a time.
 */
import pino from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { allProjections } from '../src/projections/index.js';
import { resetProjection } from '../src/projections/runner.js';
import { openAnalytics } from '../src/service.js';
import { migrate } from '../src/stores/clickhouse/migrations.js';

const projections = allProjections();
const names = projections.map((p) => p.name);
const args = process.argv.slice(2).filter((a) => a !== '--');
const usage = `usage: npm run projection:rebuild -- NAME [NAME…] | --all   (projections: ${names.join(', ')})`;

if (args.length === 0 || args.includes('--help')) {
  process.stderr.write(`${usage}\n`);
  process.exit(args.includes('--help') ? 0 : 2);
}
const chosen = args.includes('--all') ? names : args;
const unknown = chosen.filter((n) => !names.includes(n));
if (unknown.length) {
  process.stderr.write(
    `unknown projection${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n${usage}\n`,
  );
  process.exit(2);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
const logger = pino({ level: 'warn' });
const analytics = await openAnalytics(config).catch((error: unknown) => {
  process.stderr.write(
    `cannot open ClickHouse (${error instanceof Error ? error.message : String(error)}): with the embedded store, stop the service first\n`,
  );
  process.exit(1);
});
await migrate(analytics, logger);
for (const projection of projections.filter((p) => chosen.includes(p.name))) {
  await resetProjection(analytics, projection);
  process.stdout.write(
    `${projection.name}: checkpoint and tables (${projection.tables.join(', ')}) cleared; the next start projects the whole log again\n`,
  );
}
await analytics.close();
