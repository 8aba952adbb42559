/**
 * `npm run store:encrypt -- [--rebuild-clickhouse] [--json]`: encrypts, in place, a data directory
 * written without DATA_ENCRYPTION_KEY, with the key now set (see src/stores/encryption.ts and
 * "Encryption at rest" in docs/security.md). Run it with the service stopped. Exit 0 done (or nothing
 * to do), 1 failed or declined, 2 bad usage.
 */

import { encryptDataDir } from '../src/maintenance/encrypt-data-dir.js';
import { dataKeyFromSetting } from '../src/stores/encryption.js';
import { cliOptions } from './cli-args.js';

const usage = `usage: DATA_ENCRYPTION_KEY=... npm run store:encrypt -- [--rebuild-clickhouse] [--json]

STOP THE SERVICE FIRST. Encrypts with DATA_ENCRYPTION_KEY what DATA_DIR (default ./data) holds in
plain text: the event log (events.db, rekeyed in place by SQLite3MultipleCiphers), the agents' spools,
the series registry and learning pipeline outputs. Files already encrypted are checked with the key
and left as they are.

Embedded ClickHouse data written without a key cannot be encrypted in place: with
--rebuild-clickhouse its directory (DATA_DIR/clickhouse) is removed, and the projections rebuild it
from the event log at the next start (events already scavenged from the log do not come back).
Without it, plain ClickHouse data stops the command with this advice.

  --rebuild-clickhouse   remove plain embedded ClickHouse data (rebuilt from the log at start)
  --json                 print one JSON object instead of lines
  --help                 this text

Exit codes: 0 encrypted (or nothing to do), 1 failed or declined, 2 bad usage.`;

const values = cliOptions('store:encrypt', usage, {
  'rebuild-clickhouse': { type: 'boolean' },
  json: { type: 'boolean' },
});
const setting = process.env.DATA_ENCRYPTION_KEY;
if (!setting) {
  process.stderr.write(`store:encrypt: DATA_ENCRYPTION_KEY is not set\n\n${usage}\n`);
  process.exit(2);
}
try {
  const key = dataKeyFromSetting(setting)!;
  const dataDir =
    process.env.DATA_DIR === undefined || process.env.DATA_DIR === '' ? './data' : process.env.DATA_DIR;
  const result = await encryptDataDir(dataDir, key, {
    rebuildClickhouse: values['rebuild-clickhouse'] ?? false,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else for (const line of result.lines) process.stdout.write(`${line}\n`);
  process.exitCode = result.declined ? 1 : 0;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`store:encrypt: ${message}\n`);
  process.exitCode = 1;
}
