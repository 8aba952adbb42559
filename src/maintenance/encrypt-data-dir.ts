/**
 * Encrypting a data directory written without DATA_ENCRYPTION_KEY, in place: the logic behind
 * `npm run store:encrypt` (scripts/store-encrypt.ts), meant to run with the service stopped.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { SeriesRegistry } from '../collection/series-registry.js';
import { Spool } from '../collection/spool.js';
import { type DataKey, isSealedFile, sealFile } from '../stores/encryption.js';
import { openStoreFile } from '../stores/event-store/sqlite.js';

export interface EncryptResult {
  readonly dataDir: string;
  /** What was encrypted, what was already encrypted, what was declined. */
  readonly lines: readonly string[];
  /** Plain ClickHouse data was found and --rebuild-clickhouse not given: nothing else is wrong. */
  readonly declined: boolean;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

function isPlainSqlite(path: string): boolean {
  return readFileSync(path).subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER);
}

/** Rekeys a plain event log in place: WAL written back, rollback journal while rekeying, then WAL again. */
function encryptEventLog(path: string, key: Buffer): void {
  const plain = new Database(path, { fileMustExist: true });
  try {
    plain.pragma('wal_checkpoint(TRUNCATE)');
    // SQLite3MultipleCiphers rekeys only outside WAL mode.
    plain.pragma('journal_mode = DELETE');
    plain.pragma("cipher = 'chacha20'");
    plain.pragma(`hexrekey = '${key.toString('hex')}'`);
  } finally {
    plain.close();
  }
  const keyed = openStoreFile(path, key, { fileMustExist: true });
  try {
    keyed.pragma('journal_mode = WAL');
    const check = keyed.pragma('integrity_check') as { integrity_check: unknown }[];
    if (check.length !== 1 || check[0]?.integrity_check !== 'ok')
      throw new Error(`the encrypted event log fails integrity_check: ${JSON.stringify(check)}`);
  } finally {
    keyed.close();
  }
}

async function encryptSpool(dir: string, agentId: string, key: Buffer): Promise<number> {
  const plain = new Spool(dir, agentId);
  await plain.open();
  const tempDir = join(dir, '.encrypt');
  rmSync(tempDir, { recursive: true, force: true });
  const sealed = new Spool(tempDir, agentId, Date.now, key);
  let batch = [];
  let count = 0;
  for await (const record of plain.records()) {
    batch.push(record);
    count++;
    if (batch.length >= 256) {
      await sealed.appendAll(batch);
      batch = [];
    }
  }
  await sealed.appendAll(batch);
  await sealed.close();
  await plain.close();
  if (count > 0) renameSync(join(tempDir, `${agentId}.spool`), join(dir, `${agentId}.spool`));
  else rmSync(join(dir, `${agentId}.spool`), { force: true });
  rmSync(tempDir, { recursive: true, force: true });
  return count;
}

/** Encrypts every plain file the service keeps under `dataDir`; files already encrypted are left alone. */
export async function encryptDataDir(
  dataDir: string,
  key: DataKey,
  options: { readonly rebuildClickhouse?: boolean } = {},
): Promise<EncryptResult> {
  const dir = resolve(dataDir);
  const lines: string[] = [];
  const declined = false;

  const clickhouse = join(dir, 'clickhouse');
  if (existsSync(join(clickhouse, 'metadata')) && !existsSync(join(clickhouse, 'encrypted'))) {
    if (!options.rebuildClickhouse) {
      return {
        dataDir: dir,
        declined: true,
        lines: [
          `${clickhouse} holds embedded ClickHouse data written without a key: it cannot be encrypted in place. Run again with --rebuild-clickhouse to remove it (the projections rebuild it from the event log at the next start; events the log no longer holds do not come back). Nothing was changed.`,
        ],
      };
    }
    rmSync(clickhouse, { recursive: true, force: true });
    rmSync(`${clickhouse}-inserts`, { recursive: true, force: true });
    lines.push(
      `removed plain embedded ClickHouse data ${clickhouse}: rebuilt, encrypted, from the event log at the next start`,
    );
  }

  const events = join(dir, 'events.db');
  if (existsSync(events)) {
    if (isPlainSqlite(events)) {
      encryptEventLog(events, key.subkey('event-log'));
      lines.push(`encrypted the event log ${events}`);
    } else {
      openStoreFile(events, key.subkey('event-log'), { fileMustExist: true, readonly: true }).close();
      lines.push(`the event log ${events} is already encrypted with this key`);
    }
  }

  const spoolDir = join(dir, 'spool');
  if (existsSync(spoolDir)) {
    for (const name of readdirSync(spoolDir)) {
      if (!name.endsWith('.spool')) continue;
      const agentId = name.slice(0, -'.spool'.length);
      const path = join(spoolDir, name);
      try {
        await new Spool(spoolDir, agentId, Date.now, key.subkey('spool')).open();
        lines.push(`the spool ${path} is already encrypted with this key`);
        continue;
      } catch (error) {
        if (!/written without DATA_ENCRYPTION_KEY/.test((error as Error).message)) throw error;
      }
      const records = await encryptSpool(spoolDir, agentId, key.subkey('spool'));
      lines.push(`encrypted the spool ${path} (${records} record${records === 1 ? '' : 's'})`);
    }
  }

  // Damaged records set aside from a spool are kept for inspection: sealed as whole files (read with the key).
  if (existsSync(spoolDir))
    for (const name of readdirSync(spoolDir)) {
      if (!/\.spool\.damaged-/.test(name)) continue;
      const path = join(spoolDir, name);
      const bytes = readFileSync(path);
      if (isSealedFile(bytes)) continue;
      writeFileSync(`${path}.encrypt`, sealFile(key.subkey('spool'), bytes, 'spool'));
      renameSync(`${path}.encrypt`, path);
      lines.push(`sealed the damaged spool copy ${path}`);
    }

  // Insert files a crash left behind (their rows come again from the log): removed, not kept in plain text.
  const inserts = `${clickhouse}-inserts`;
  if (existsSync(inserts))
    for (const name of readdirSync(inserts)) {
      if (!name.endsWith('.native')) continue;
      rmSync(join(inserts, name), { force: true });
      lines.push(`removed the insert file a crash left, ${join(inserts, name)}`);
    }

  const registry = join(dir, 'series.registry');
  if (existsSync(registry)) {
    const text = readFileSync(registry, 'utf8');
    if (text !== '' && !text.startsWith('~')) {
      const kept = SeriesRegistry.encryptFile(registry, key.subkey('series-registry'));
      lines.push(`encrypted the series registry ${registry} (${kept} series)`);
    } else lines.push(`the series registry ${registry} is already encrypted`);
  }

  for (const [folder, purpose, what] of [
    ['learning', 'learning-blobs', 'learning pipeline output'],
    ['models', 'model-artifacts', 'model artifact'],
  ] as const) {
    const files = join(dir, folder);
    if (!existsSync(files)) continue;
    let count = 0;
    for (const name of readdirSync(files)) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const path = join(files, name);
      const bytes = readFileSync(path);
      if (isSealedFile(bytes)) continue;
      writeFileSync(`${path}.encrypt`, sealFile(key.subkey(purpose), bytes, purpose));
      renameSync(`${path}.encrypt`, path);
      count++;
    }
    lines.push(`encrypted ${count} ${what} file${count === 1 ? '' : 's'} in ${files}`);
  }
  lines.push(
    declined ? 'result: DECLINED' : 'result: ENCRYPTED: start the service with DATA_ENCRYPTION_KEY set',
  );
  return { dataDir: dir, lines, declined };
}
