/**
 * `npm run store:verify -- [--file PATH] [--json]`: checks the embedded event store's file, read-only.
 * Exit 0 intact, 1 damaged, 2 bad usage (see src/stores/event-store/sqlite-verify.ts).
 */

import { dataKeyFromSetting } from '../src/stores/encryption.js';
import {
  describeReport,
  StoreFileUsageError,
  storeFilePath,
  toJson,
  verifyStoreFile,
} from '../src/stores/event-store/sqlite-verify.js';
import { cliOptions } from './cli-args.js';

const usage = `usage: npm run store:verify -- [--file PATH] [--json]

Checks the embedded event store's file without changing it (it is opened read-only): SQLite's
integrity_check, then every event in position order (each row reads, its data and metadata are JSON,
positions increase, each stream's revisions follow one another). Reports the events read, the first
and last position, the store's epoch, and where damage starts (the last good position and the error).
Run it with the service stopped.

  --file PATH   the store file (default: $DATA_DIR/events.db, DATA_DIR defaulting to ./data)
  --json        print one JSON object instead of lines
  --help        this text

Exit codes: 0 intact, 1 damaged (then 'npm run store:repair' keeps every event up to the damage),
2 bad usage (unknown option, no such file).`;

const values = cliOptions('store:verify', usage, { file: { type: 'string' }, json: { type: 'boolean' } });

const file = storeFilePath(values.file);
try {
  // The same setting as the service: an encrypted store is read with its key.
  const report = verifyStoreFile(
    file,
    dataKeyFromSetting(process.env.DATA_ENCRYPTION_KEY)?.subkey('event-log') ?? null,
  );
  if (values.json) process.stdout.write(`${toJson(report)}\n`);
  else {
    process.stdout.write(`verifying ${file} read-only (run this with the service stopped)\n`);
    for (const line of describeReport(report)) process.stdout.write(`${line}\n`);
  }
  process.exitCode = report.intact ? 0 : 1;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof StoreFileUsageError) {
    process.stderr.write(`store:verify: ${message}\n\n${usage}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`store:verify: cannot check ${file}: ${message}\n`);
    process.exitCode = 1;
  }
}
