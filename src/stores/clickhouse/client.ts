import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { drainPending, Session } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { EncryptionKeyError } from '../encryption.js';

export interface AnalyticsStoreOptions {
  /** A ClickHouse server (`http://host:8123`). Omitted: embedded chDB under `dataDir`. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  /** The database every table lives in; created if missing. */
  readonly database: string;
  /** chDB's data directory (embedded mode only). chDB binds one directory per process. */
  readonly dataDir: string;
  /**
   * The clickhouse-disk subkey of DATA_ENCRYPTION_KEY (embedded mode only): every MergeTree table then
   * lives on an encrypted disk (AES-256-CTR) and inserts are staged through a pipe, never a file.
   */
  readonly encryptionKey?: Buffer | null;
}

/** The encrypted disk's directory inside chDB's data directory, and the names in its configuration. */
const ENCRYPTED_DIR = 'encrypted';
const ENCRYPTED_DISK = 'all_use_encrypted';
const KEY_ENV = 'ALL_USE_CHDB_DISK_KEY';

/**
 * chDB's configuration for encryption at rest: a local disk under `<dataDir>/encrypted/`, an encrypted
 * disk over it, and that disk as the default storage policy of every MergeTree table and of temporary
 * data. The key is not in the file: ClickHouse reads it from the environment of this process.
 */
function encryptedDiskConfig(dataDir: string): string {
  const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<clickhouse>
  <storage_configuration>
    <disks>
      <all_use_encrypted_base>
        <type>local</type>
        <path>${xml(join(resolve(dataDir), ENCRYPTED_DIR))}/</path>
      </all_use_encrypted_base>
      <${ENCRYPTED_DISK}>
        <type>encrypted</type>
        <disk>all_use_encrypted_base</disk>
        <path>data/</path>
        <algorithm>AES_256_CTR</algorithm>
        <key_hex from_env="${KEY_ENV}"/>
      </${ENCRYPTED_DISK}>
    </disks>
    <policies>
      <all_use_encrypted>
        <volumes><main><disk>${ENCRYPTED_DISK}</disk></main></volumes>
      </all_use_encrypted>
    </policies>
  </storage_configuration>
  <tmp_policy>all_use_encrypted</tmp_policy>
  <merge_tree><storage_policy>all_use_encrypted</storage_policy></merge_tree>
</clickhouse>
`;
}

/**
 * Starts chDB's engine for `dataDir` with the encrypted disk (a session kept open while the store is:
 * the connections the client makes share its engine). Data written without a key, a key that does not
 * open the data, and data written with a key opened without one are EncryptionKeyErrors.
 */
function startEngine(dataDir: string, key: Buffer | null): Session | null {
  const encryptedDir = join(dataDir, ENCRYPTED_DIR);
  if (!key) {
    if (existsSync(encryptedDir))
      throw new EncryptionKeyError(
        `embedded ClickHouse under ${dataDir} is encrypted but DATA_ENCRYPTION_KEY is not set: start with the key it was written with`,
      );
    return null;
  }
  const hadData = existsSync(join(dataDir, 'metadata'));
  if (hadData && !existsSync(encryptedDir))
    throw new EncryptionKeyError(
      `embedded ClickHouse under ${dataDir} was written without DATA_ENCRYPTION_KEY (plain text) but the key is set: nothing is written in plain text while a key is set. With the service stopped, remove ${dataDir} (the projections rebuild it from the event log at the next start; see "Encryption at rest" in docs/security.md), or start without the key.`,
    );
  mkdirSync(encryptedDir, { recursive: true });
  const configFile = `${resolve(dataDir)}.encrypted-disk.xml`;
  writeFileSync(configFile, encryptedDiskConfig(dataDir));
  process.env[KEY_ENV] = key.toString('hex');
  try {
    return new Session(dataDir, { connectionArgs: [`--config-file=${configFile}`] });
  } catch (error) {
    throw new EncryptionKeyError(
      `embedded ClickHouse under ${dataDir} does not open with DATA_ENCRYPTION_KEY: its data was written with another key, or without a key (${error instanceof Error ? error.message : String(error)}; chDB prints the engine's reason above)`,
      { cause: error },
    );
  } finally {
    delete process.env[KEY_ENV];
  }
}

/** Writes the chunks to `file` (a file, or a pipe whose reader takes them). */
async function writeChunks(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writev(chunks);
  } finally {
    await handle.close();
  }
}

/** A named pipe: what is written to it goes to its reader, never to the disk. */
function makePipe(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
}

/**
 * After an insert that failed, perhaps before it opened the pipe: reads the pipe (non-blocking) until
 * the writer is done, so the writer never waits forever for a reader.
 */
async function drainPipe(path: string, written: Promise<void>): Promise<void> {
  let settled = false;
  written.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  const reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
  if (!reader) return;
  try {
    const buffer = Buffer.alloc(1 << 16);
    while (!settled) {
      await reader.read(buffer, 0, buffer.length, null).catch(() => undefined);
      await new Promise((done) => setTimeout(done, 5));
    }
  } finally {
    await reader.close();
  }
}

export interface AnalyticsStore {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly kind: 'chdb' | 'server';
  /** `database.table`, for SQL text. */
  table(name: string): string;
  /**
   * Inserts one block in ClickHouse's Native format (see native-format.ts): the fast path for large
   * inserts. chDB loads it from a file (its connection cannot carry binary bodies); a server gets it as
   * the raw body of an HTTP INSERT.
   */
  insertNative(
    table: string,
    columns: readonly string[],
    block: Uint8Array | readonly Uint8Array[],
  ): Promise<void>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Settings are set once on the client: the chDB connection turns per-query settings into session
 * `SET`s that persist into later queries, so nothing may rely on a per-query setting being scoped.
 */
const SETTINGS: ClickHouseSettings = {
  // 64-bit integers as JSON strings: numbers past 2^53 would lose precision.
  output_format_json_quote_64bit_integers: 1,
  date_time_input_format: 'best_effort',
  // One projection write can span many days or months (a backfill of history): ClickHouse's default
  // refuses an insert touching more than 100 partitions, and a projection would retry it forever.
  max_partitions_per_insert_block: '0',
};

/** Opens the analytics store: chDB in process by default, a ClickHouse server when a URL is given. */
export async function openAnalyticsStore(options: AnalyticsStoreOptions): Promise<AnalyticsStore> {
  if (!IDENTIFIER.test(options.database)) {
    throw new Error(
      `CLICKHOUSE_DATABASE '${options.database}' must be letters, digits and _ (not starting with a digit)`,
    );
  }
  let client: ClickHouseClient;
  let kind: AnalyticsStore['kind'];
  let engine: Session | null = null;
  const key = options.url ? null : (options.encryptionKey ?? null);
  if (options.url) {
    kind = 'server';
    client = createClient({
      url: options.url,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      clickhouse_settings: SETTINGS,
      request_timeout: 60_000,
    });
  } else {
    kind = 'chdb';
    mkdirSync(options.dataDir, { recursive: true });
    engine = startEngine(options.dataDir, key);
    client = createClient({
      // The connection type comes from chdb's copy of the client's common package: same shape.
      connection: createChdbConnection({ path: options.dataDir }) as unknown as never,
      clickhouse_settings: SETTINGS,
    } as Parameters<typeof createClient>[0]);
  }
  if (engine) {
    // The engine must be the one started with the encrypted disk, not one this process started before.
    const disks = await client.query({
      query: `SELECT count() AS n FROM system.disks WHERE name = '${ENCRYPTED_DISK}'`,
      format: 'JSONEachRow',
    });
    const [row] = await disks.json<{ n: string }>();
    if (row?.n !== '1') {
      await client.close();
      engine.cleanup();
      throw new EncryptionKeyError(
        `embedded ClickHouse under ${options.dataDir} was already started in this process without encryption: DATA_ENCRYPTION_KEY cannot apply to it`,
      );
    }
  }
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${options.database}` });
  const table = (name: string) => {
    if (!IDENTIFIER.test(name)) throw new Error(`invalid table name '${name}'`);
    return `${options.database}.${name}`;
  };
  const columnList = (columns: readonly string[]) => {
    for (const c of columns) if (!IDENTIFIER.test(c)) throw new Error(`invalid column name '${c}'`);
    return columns.join(', ');
  };
  // Beside chDB's directory, not in it: chDB keeps its own temporary files under <path>/tmp.
  const spoolDir = `${options.dataDir.replace(/[\\/]+$/, '')}-inserts`;
  if (kind === 'chdb') {
    // Insert files left by a process that died mid-insert are of no use to anyone.
    rmSync(spoolDir, { recursive: true, force: true });
    mkdirSync(spoolDir, { recursive: true });
  }
  /** The encrypted inserts in turn (see `insertNative`). */
  let pipeInserts: Promise<unknown> = Promise.resolve();

  /** chDB inserts the Native block it reads from `file`; views (the rollups) are fed in parallel. */
  function insertFromFile(target: string, file: string): Promise<unknown> {
    const path = file.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    return client.command({
      query: `INSERT INTO ${target} SELECT * FROM file('${path}', 'Native') SETTINGS parallel_view_processing = 1, max_insert_threads = 2`,
    });
  }

  /** An encrypted native insert through a named pipe (see `insertNative`). */
  async function pipeInsert(target: string, chunks: readonly Uint8Array[]): Promise<void> {
    const file = join(spoolDir, `insert-${randomUUID()}.pipe`);
    makePipe(file);
    try {
      const inserted = insertFromFile(target, file);
      const written = writeChunks(file, chunks);
      try {
        await inserted;
      } catch (error) {
        await drainPipe(file, written);
        throw error;
      }
      await written;
    } finally {
      await rm(file, { force: true });
    }
  }

  return {
    client,
    database: options.database,
    kind,
    table,
    async insertNative(name, columns, block) {
      const target = `${table(name)} (${columnList(columns)})`;
      const chunks = block instanceof Uint8Array ? [block] : [...block];
      if (kind === 'chdb' && key) {
        // Encrypted: the block goes through a named pipe, so it never reaches the disk in plain text.
        // One at a time: opening a pipe holds a thread of Node's pool until its reader (chDB, whose
        // queries need that pool too) opens it, so concurrent ones could take every thread and wait
        // for each other for ever.
        const turn = pipeInserts.then(() => pipeInsert(target, chunks));
        pipeInserts = turn.catch(() => undefined);
        return turn;
      }
      if (kind === 'chdb') {
        const file = join(spoolDir, `insert-${randomUUID()}.native`);
        await writeChunks(file, chunks);
        try {
          await insertFromFile(target, file);
        } finally {
          await rm(file, { force: true });
        }
        return;
      }
      const url = new URL(options.url!);
      url.searchParams.set('query', `INSERT INTO ${target} FORMAT Native`);
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (options.username) headers['x-clickhouse-user'] = options.username;
      if (options.password) headers['x-clickhouse-key'] = options.password;
      const response = await fetch(url, {
        method: 'POST',
        headers,
        // Our chunks are ArrayBuffer-backed (never shared memory), as Blob asks.
        body: new Blob(chunks as Uint8Array<ArrayBuffer>[]),
        signal: AbortSignal.timeout(300_000),
      });
      if (!response.ok)
        throw new Error(
          `ClickHouse insert into ${name} failed (${response.status}): ${await response.text()}`,
        );
    },
    async close() {
      await client.close();
      engine?.cleanup();
      if (kind === 'chdb') await drainPending();
    },
  };
}

/** Runs a query and returns its rows (JSONEachRow). */
export async function queryRows<T>(
  store: AnalyticsStore,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await store.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
