/**
 * `npm run store:repair -- [--file PATH] [--dry-run] [--force] [--json]`: keeps every event of the
 * embedded event store's file up to the damage, in a new file put in its place; the damaged file is set
 * aside beside it. Exit 0 repaired (or intact, or a dry run), 1 the repair declined or failed (the file
 * is then unchanged), 2 bad usage (see src/stores/event-store/sqlite-repair.ts).
 */

import { dataKeyFromSetting } from '../src/stores/encryption.js';
import { describeRepair, repairStoreFile } from '../src/stores/event-store/sqlite-repair.js';
import {
  describeReport,
  StoreFileUsageError,
  StoreRepairError,
  storeFilePath,
  toJson,
} from '../src/stores/event-store/sqlite-verify.js';
import { cliOptions } from './cli-args.js';

const usage = `usage: npm run store:repair -- [--file PATH] [--dry-run] [--force] [--json]

STOP THE SERVICE FIRST: the repair replaces the file the service writes to.

Reads the embedded event store's file in position order up to the first event that cannot be read or
parsed, and writes those events (same positions, ids, streams, revisions, data, metadata and times)
into a new file with a NEW epoch; new positions continue after the largest the old file ever gave. The
damaged file (and its -wal/-shm) is set aside as <file>.damaged-<time> and the new file takes its place.
A repaired log is another log: every projection then stops at the next start and asks to be rebuilt
with 'npm run projection:rebuild -- NAME'. An intact file is left as it is.

  --file PATH   the store file (default: $DATA_DIR/events.db, DATA_DIR defaulting to ./data)
  --dry-run     report what would be kept; write nothing
  --force       replace the file even when nothing in it reads as an event store (no events table)
  --json        print one JSON object instead of lines
  --help        this text

Exit codes: 0 repaired, intact (nothing done) or dry run; 1 the repair declined or failed (the file is
unchanged); 2 bad usage (unknown option, no such file).`;

const values = cliOptions('store:repair', usage, {
  file: { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
});

const file = storeFilePath(values.file);
if (!values.json)
  process.stdout.write(
    values['dry-run']
      ? `dry run: what a repair of ${file} would keep (run it with the service stopped)\n`
      : `repairing ${file} (the service must be stopped)\n`,
  );
try {
  const result = await repairStoreFile(file, {
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
    // The same setting as the service: an encrypted store is read, and repaired, with its key.
    key: dataKeyFromSetting(process.env.DATA_ENCRYPTION_KEY)?.subkey('event-log') ?? null,
  });
  if (values.json) process.stdout.write(`${toJson(result)}\n`);
  else for (const line of describeRepair(result)) process.stdout.write(`${line}\n`);
  process.exitCode = 0;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof StoreFileUsageError) {
    process.stderr.write(`store:repair: ${message}\n\n${usage}\n`);
    process.exitCode = 2;
  } else {
    if (error instanceof StoreRepairError && error.report) {
      if (values.json) process.stdout.write(`${toJson({ report: error.report, error: message })}\n`);
      else for (const line of describeReport(error.report).slice(0, -1)) process.stdout.write(`${line}\n`);
    }
    process.stderr.write(`store:repair: ${message}\n`);
    process.exitCode = 1;
  }
}
