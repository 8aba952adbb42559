import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { createChdbConnection } from 'chdb/connection';

export interface AnalyticsStoreOptions {
  /** A ClickHouse server (`http://host:8123`). Omitted: embedded chDB under `dataDir`. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  /** The database every table lives in; created if missing. */
  readonly database: string;
  /** chDB's data directory (embedded mode only). chDB binds one directory per process. */
  readonly dataDir: string;
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
    client = createClient({
      // The connection type comes from chdb's copy of the client's common package: same shape.
      connection: createChdbConnection({ path: options.dataDir }) as unknown as never,
      clickhouse_settings: SETTINGS,
    } as Parameters<typeof createClient>[0]);
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
  return {
    client,
    database: options.database,
    kind,
    table,
    async insertNative(name, columns, block) {
      const target = `${table(name)} (${columnList(columns)})`;
      const chunks = block instanceof Uint8Array ? [block] : [...block];
      if (kind === 'chdb') {
        const file = join(spoolDir, `insert-${randomUUID()}.native`);
        const handle = await open(file, 'w');
        try {
          await handle.writev(chunks);
        } finally {
          await handle.close();
        }
        try {
          const path = file.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
          // Views (the rollups) are fed in parallel with the table itself.
          await client.command({
            query: `INSERT INTO ${target} SELECT * FROM file('${path}', 'Native') SETTINGS parallel_view_processing = 1, max_insert_threads = 2`,
          });
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
