import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { EncryptionKeyError } from '../encryption.js';
import {
  type AppendOptions,
  type AppendResult,
  categoryOf,
  type EventData,
  type EventFilter,
  type EventStore,
  EventStoreDamagedError,
  EventStoreUnavailableError,
  type JsonValue,
  type Metadata,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionMessage,
  WrongExpectedVersionError,
} from './port.js';

export interface SqliteEventStoreOptions {
  /** The database file; `:memory:` for a throw-away store. */
  readonly path: string;
  /**
   * `normal` (default) survives a crash of the process; `full` also survives a power loss, at the cost
   * of an fsync per append.
   */
  readonly synchronous?: 'normal' | 'full';
  /**
   * Live subscriptions wake on appends made through this process at once; this interval also lets them
   * see appends made by another process on the same file.
   */
  readonly pollIntervalMs?: number;
  /** Rows fetched per page by reads and subscriptions. */
  readonly pageSize?: number;
  /**
   * How long an append waits for the write lock another process holds, in short non-blocking retries,
   * before it fails with EventStoreUnavailableError (default 5,000 ms).
   */
  readonly lockWaitMs?: number;
  /**
   * The event log's subkey (DATA_ENCRYPTION_KEY, see src/stores/encryption.ts): the file, its WAL and
   * its journal are then encrypted (SQLite3MultipleCiphers, ChaCha20-Poly1305). Null or omitted: plain.
   */
  readonly key?: Buffer | null;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Does the file start as a plain SQLite database? Null when it does not exist or is empty. */
function plainHeader(path: string): boolean | null {
  if (path === ':memory:' || !existsSync(path)) return null;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, head, 0, head.length, 0);
    return read === 0 ? null : head.subarray(0, read).equals(SQLITE_HEADER);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens an event store file, keyed or plain, before anything else reads it: with a key, the cipher and
 * the key are set first and `sqlite_master` is read to check that the key opens the file. A file
 * written without a key while one is set, an encrypted file without the key, and a key that does not
 * open the file are EncryptionKeyErrors naming the file.
 */
export function openStoreFile(
  path: string,
  key: Buffer | null | undefined,
  options?: Database.Options & { readonly verify?: boolean },
): Database.Database {
  const plain = plainHeader(path);
  if (key && plain === true)
    throw new EncryptionKeyError(
      `the event store file ${path} was written without DATA_ENCRYPTION_KEY (it is plain text) but the key is set: nothing is written in plain text while a key is set. With the service stopped, run 'npm run store:encrypt' to encrypt the data directory with the key, or start without the key.`,
    );
  const db = new Database(path, options);
  try {
    if (key) {
      db.pragma("cipher = 'chacha20'");
      db.pragma(`hexkey = '${key.toString('hex')}'`);
    }
    if (key || options?.verify) db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    db.close();
    if (key && plain === false && isDamage(error))
      throw new EncryptionKeyError(
        `DATA_ENCRYPTION_KEY does not open the event store file ${path}: it was encrypted with another key (or is damaged: 'npm run store:verify' with the right key tells)`,
        { cause: error },
      );
    if (!key && plain === false && isDamage(error))
      throw damaged(
        path,
        new Error(
          `${(error as Error).message}; it is not a plain SQLite file: if it was written with DATA_ENCRYPTION_KEY, start with that key`,
        ),
      );
    throw error;
  }
  return db;
}

/** A page of a read stops past this many bytes of event data, so no read holds the event loop for long. */
const PAGE_MAX_BYTES = 4 * 1024 * 1024;
/** SQLite's own wait for a lock, blocking the thread: kept to a few milliseconds; longer waits are retried asynchronously. */
const BUSY_TIMEOUT_MS = 3;
/** Events deleted per scavenging transaction. */
const SCAVENGE_SLICE = 5000;

/** A row of the `events` table, as better-sqlite3 reads it (64-bit integers as bigint). */
export interface EventRow {
  position: bigint;
  event_id: string;
  stream_id: string;
  revision: bigint;
  category: string;
  type: string;
  data: string;
  metadata: string;
  created_at: bigint;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position   INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT    NOT NULL UNIQUE,
  stream_id  TEXT    NOT NULL,
  revision   INTEGER NOT NULL,
  category   TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  data       TEXT    NOT NULL,
  metadata   TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE INDEX IF NOT EXISTS events_category ON events (category, position);
CREATE INDEX IF NOT EXISTS events_type ON events (type, position);
CREATE TABLE IF NOT EXISTS streams (
  stream_id TEXT PRIMARY KEY,
  revision  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

const DAMAGE_CODES = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CORRUPT_VTAB',
  'SQLITE_CORRUPT_SEQUENCE',
]);

/** Is this SQLite error a damaged file (rather than a busy lock or a bug)? */
export function isDamage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (DAMAGE_CODES.has(code) || code.startsWith('SQLITE_CORRUPT'));
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/** The error a damaged file gives: the file, what SQLite said, and what to do. */
export function damaged(path: string, error: unknown): EventStoreDamagedError {
  const reason = error instanceof Error ? error.message : String(error);
  return new EventStoreDamagedError(
    `the event store file ${path} is damaged (${reason}). Stop the service, run 'npm run store:verify' to see what is intact, then 'npm run store:repair' to keep every event up to the damage (the damaged file is kept beside it).`,
    { cause: error },
  );
}

/**
 * A row as an event. Its payload is parsed when it is first read: a consumer that needs only the
 * envelope (the audit index reads every event, sample batches of 100 KB included) parses none of it.
 * Each read gives its own objects, as before; `unreadable` names a payload that is not JSON.
 */
function parseRow(row: EventRow, unreadable: (error: Error) => Error): RecordedEvent {
  let text: string | null = row.data;
  let data: JsonValue = null;
  return {
    id: row.event_id,
    type: row.type,
    streamId: row.stream_id,
    category: row.category,
    revision: row.revision,
    position: row.position,
    get data(): JsonValue {
      if (text !== null) {
        try {
          data = JSON.parse(text) as JsonValue;
        } catch (error) {
          throw unreadable(error as Error);
        }
        text = null;
      }
      return data;
    },
    metadata: JSON.parse(row.metadata) as Metadata,
    createdAt: new Date(Number(row.created_at)),
  };
}

function filterSql(filter: EventFilter | undefined): { where: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (filter?.categories) {
    parts.push(`category IN (${filter.categories.map(() => '?').join(',') || 'NULL'})`);
    params.push(...filter.categories);
  }
  if (filter?.eventTypes) {
    parts.push(`type IN (${filter.eventTypes.map(() => '?').join(',') || 'NULL'})`);
    params.push(...filter.eventTypes);
  }
  return { where: parts.length ? ` AND ${parts.join(' AND ')}` : '', params };
}

/** The embedded event store: one SQLite file in WAL mode, appends serialised by SQLite's write lock. */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  let db: Database.Database;
  let epoch: string;
  try {
    db = openStoreFile(options.path, options.key, { verify: true });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('cache_size = -65536');
    db.defaultSafeIntegers(true);
    db.exec(SCHEMA);
    // Added after the first release: a stream's max age (null: kept forever).
    const streamColumns = db.prepare<[], { name: string }>('PRAGMA table_info(streams)').all();
    if (!streamColumns.some((c) => c.name === 'max_age_ms'))
      db.exec('ALTER TABLE streams ADD COLUMN max_age_ms INTEGER');
    // The store's identity, written once when it is created (or first opened by a version that has it).
    db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)").run(randomUUID());
    epoch = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'epoch'").get()!.value;
    // Touch the newest and the oldest pages of the log: a truncated or overwritten file shows here.
    db.prepare('SELECT max(position) FROM events').get();
    db.prepare('SELECT position FROM events ORDER BY position LIMIT 1').get();
  } catch (error) {
    if (error instanceof EncryptionKeyError || error instanceof EventStoreDamagedError) throw error;
    if (isDamage(error)) throw damaged(options.path, error);
    throw error;
  }
  const lockWaitMs = options.lockWaitMs ?? 5000;
  /** A row whose data or metadata is not JSON is a damaged file, named as such. */
  const toRecorded = (row: EventRow): RecordedEvent => {
    const unreadable = (error: Error) =>
      damaged(
        options.path,
        new Error(`the event at position ${row.position} does not read as JSON: ${error.message}`),
      );
    try {
      return parseRow(row, unreadable);
    } catch (error) {
      throw unreadable(error as Error);
    }
  };

  const pageSize = options.pageSize ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const waiters = new Set<() => void>();
  let closed = false;

  const getStream = db.prepare<[string], { revision: bigint }>(
    'SELECT revision FROM streams WHERE stream_id = ?',
  );
  const getById = db.prepare<
    [string],
    { stream_id: string; revision: bigint; position: bigint; type: string; data: string }
  >('SELECT stream_id, revision, position, type, data FROM events WHERE event_id = ?');
  const insertEvent = db.prepare(
    'INSERT INTO events (event_id, stream_id, revision, category, type, data, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const upsertStream = db.prepare(
    'INSERT INTO streams (stream_id, revision) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision',
  );
  const head = db.prepare<[], { position: bigint | null }>('SELECT max(position) AS position FROM events');
  // AUTOINCREMENT keeps the largest position ever used in sqlite_sequence, deleted rows included.
  const highest = db.prepare<[], { position: bigint | null }>(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), coalesce((SELECT max(position) FROM events), 0)) AS position",
  );
  const setMaxAge = db.prepare('UPDATE streams SET max_age_ms = ? WHERE stream_id = ?');
  const truncate = db.prepare('DELETE FROM events WHERE stream_id = ? AND revision < ?');
  const insertStreamWithAge = db.prepare(
    'INSERT OR IGNORE INTO streams (stream_id, revision, max_age_ms) VALUES (?, -1, ?)',
  );
  const expire = db.prepare(
    `DELETE FROM events WHERE position IN (
       SELECT e.position FROM events e JOIN streams s ON s.stream_id = e.stream_id
        WHERE e.position <= ? AND s.max_age_ms IS NOT NULL AND e.created_at < ? - s.max_age_ms
        LIMIT ${SCAVENGE_SLICE})`,
  );

  /** Same ids already in this stream, in the same order: the retry of an append that succeeded. */
  /** The stream's revision, or null when it has no events yet (-1 marks a stream created for its max age). */
  function currentRevision(streamId: string): bigint | null {
    const stored = getStream.get(streamId)?.revision ?? null;
    return stored === null || stored < 0n ? null : stored;
  }

  function previousAppend(streamId: string, events: readonly EventData[]): AppendResult | null {
    const first = events[0];
    if (!first) return null;
    const found = getById.get(first.id);
    if (!found) return null;
    let last = found;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const row = getById.get(event.id);
      // A retry is the same events again: an id reused for different content is a conflict, never
      // silently answered with the earlier event.
      if (
        !row ||
        row.stream_id !== streamId ||
        row.revision !== found.revision + BigInt(i) ||
        row.type !== event.type ||
        row.data !== JSON.stringify(event.data)
      ) {
        throw new WrongExpectedVersionError(streamId, 'any', currentRevision(streamId));
      }
      last = row;
    }
    return { nextExpectedRevision: last.revision, position: last.position };
  }

  const appendTx = db.transaction(
    (streamId: string, events: readonly EventData[], options: AppendOptions): AppendResult => {
      const retried = previousAppend(streamId, events);
      if (retried) return retried;
      const current = currentRevision(streamId);
      const expected = options.expectedRevision ?? 'any';
      const ok =
        expected === 'any' ||
        (expected === 'noStream' && current === null) ||
        (expected === 'streamExists' && current !== null) ||
        (typeof expected === 'bigint' && current === expected);
      if (!ok) throw new WrongExpectedVersionError(streamId, expected, current);
      const category = categoryOf(streamId);
      const now = BigInt(Date.now());
      let revision = current ?? -1n;
      let position = 0n;
      for (const event of events) {
        revision += 1n;
        const info = insertEvent.run(
          event.id,
          streamId,
          revision,
          category,
          event.type,
          JSON.stringify(event.data),
          JSON.stringify(event.metadata ?? {}),
          now,
        );
        position = BigInt(info.lastInsertRowid);
      }
      upsertStream.run(streamId, revision);
      return { nextExpectedRevision: revision, position };
    },
  );

  function wake(): void {
    for (const w of waiters) w();
    waiters.clear();
  }

  function waitForAppend(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, pollIntervalMs);
      function done(): void {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  function assertOpen(): void {
    if (closed) throw new Error('event store is closed');
  }

  /** Runs a read, turning a damaged file into a clear error. */
  function reading<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      if (isDamage(error)) throw damaged(options.path, error);
      throw error;
    }
  }

  /**
   * Runs a write. Another process holding the write lock is waited for in short asynchronous retries
   * (SQLite itself blocks the thread for at most BUSY_TIMEOUT_MS), so the event loop stays free; past
   * `lockWaitMs` the write fails as unavailable.
   */
  async function writing<T>(write: () => T): Promise<T> {
    const deadline = Date.now() + lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return write();
      } catch (error) {
        if (isDamage(error)) throw damaged(options.path, error);
        if (!isBusy(error)) throw error;
        if (Date.now() >= deadline)
          throw new EventStoreUnavailableError(
            `the event store file ${options.path} is locked by another writer (waited ${lockWaitMs} ms)`,
            { cause: error },
          );
        await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt * 2)));
        assertOpen();
      }
    }
  }

  const pageStatements = new Map<string, Database.Statement<unknown[], EventRow>>();
  /** Events after a position, at most `limit` of them and at most about PAGE_MAX_BYTES of data. */
  function pageAfter(after: Position, filter: EventFilter | undefined, limit: number): EventRow[] {
    const { where, params } = filterSql(filter);
    let stmt = pageStatements.get(where);
    if (!stmt) {
      stmt = db.prepare<unknown[], EventRow>(
        `SELECT * FROM events WHERE position > ?${where} ORDER BY position LIMIT ?`,
      );
      pageStatements.set(where, stmt);
    }
    const statement = stmt;
    return reading(() => {
      const rows: EventRow[] = [];
      let bytes = 0;
      for (const row of statement.iterate(after, ...params, limit)) {
        rows.push(row);
        bytes += row.data.length;
        if (bytes >= PAGE_MAX_BYTES) break;
      }
      return rows;
    });
  }
  const atPosition = db.prepare<[bigint], EventRow>('SELECT * FROM events WHERE position = ?');
  const byStreamAndId = db.prepare<[string, string], EventRow>(
    'SELECT * FROM events WHERE event_id = ? AND stream_id = ?',
  );

  return {
    kind: 'sqlite',

    async identity() {
      assertOpen();
      return { epoch };
    },

    async append(streamId, events, appendOptions = {}) {
      assertOpen();
      if (events.length === 0) throw new Error('append needs at least one event');
      const result = await writing(() => appendTx.immediate(streamId, events, appendOptions));
      wake();
      return result;
    },

    async readAt(position) {
      assertOpen();
      const row = reading(() => atPosition.get(position));
      return row ? toRecorded(row) : null;
    },

    async findEvent(streamId, eventId) {
      assertOpen();
      const row = reading(() => byStreamAndId.get(eventId, streamId));
      return row ? toRecorded(row) : null;
    },

    async *readStream(streamId, readOptions: ReadStreamOptions = {}) {
      assertOpen();
      const backwards = readOptions.direction === 'backwards';
      let remaining = readOptions.maxCount ?? Number.POSITIVE_INFINITY;
      const from = readOptions.fromRevision ?? (backwards ? 'end' : 'start');
      let cursor: bigint;
      if (from === 'start') cursor = 0n;
      else if (from === 'end') cursor = getStream.get(streamId)?.revision ?? -1n;
      else cursor = from;
      const stmt = db.prepare<[string, bigint, number], EventRow>(
        backwards
          ? 'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?'
          : 'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
      );
      while (remaining > 0) {
        const rows = reading(() => stmt.all(streamId, cursor, Math.min(pageSize, remaining)));
        for (const row of rows) yield toRecorded(row);
        remaining -= rows.length;
        if (rows.length < pageSize) return;
        cursor = backwards ? rows[rows.length - 1]!.revision - 1n : rows[rows.length - 1]!.revision + 1n;
      }
    },

    async *readAll(readOptions: ReadAllOptions = {}) {
      assertOpen();
      let after = readOptions.after ?? 0n;
      let remaining = readOptions.maxCount ?? Number.POSITIVE_INFINITY;
      while (remaining > 0) {
        const rows = pageAfter(after, readOptions.filter, Math.min(pageSize, remaining));
        for (const row of rows) yield toRecorded(row);
        remaining -= rows.length;
        if (rows.length === 0) return;
        after = rows[rows.length - 1]!.position;
      }
    },

    subscribeToAll(subscribeOptions: SubscribeOptions = {}): Subscription {
      assertOpen();
      let stopped = false;
      let stop: (() => void) | undefined;
      // Catch-up and live read the same table by position, so the hand-over has no gap and no
      // duplicate by construction: there is no separate live feed to splice in.
      async function* run(): AsyncGenerator<SubscriptionMessage> {
        let after = subscribeOptions.after ?? 0n;
        let caughtUp = false;
        while (!stopped && !closed) {
          const rows = pageAfter(after, subscribeOptions.filter, pageSize);
          for (const row of rows) {
            if (stopped) return;
            yield { kind: 'event', event: toRecorded(row) };
            after = row.position;
          }
          if (rows.length === 0) {
            if (!caughtUp) {
              caughtUp = true;
              yield { kind: 'caughtUp' };
            }
            await new Promise<void>((resolve) => {
              stop = resolve;
              void waitForAppend().then(resolve);
            });
          }
        }
      }
      const iterator = run();
      return {
        [Symbol.asyncIterator]: () => iterator,
        async close() {
          stopped = true;
          stop?.();
          await iterator.return(undefined);
        },
      };
    },

    async headPosition() {
      assertOpen();
      return reading(() => head.get()?.position ?? null);
    },

    async highestPosition() {
      assertOpen();
      const position = reading(() => highest.get()?.position ?? 0n);
      return position > 0n ? position : null;
    },

    async setStreamMaxAge(streamId, maxAgeMs) {
      assertOpen();
      const age = maxAgeMs === null ? null : BigInt(Math.round(maxAgeMs));
      await writing(() =>
        db.transaction(() => {
          insertStreamWithAge.run(streamId, age);
          setMaxAge.run(age, streamId);
        })(),
      );
    },

    async truncateStream(streamId, before) {
      assertOpen();
      await writing(() => truncate.run(streamId, before));
    },

    async scavenge(upTo) {
      assertOpen();
      // In slices, each its own short transaction, so that a large expiry never holds the event loop.
      const now = BigInt(Date.now());
      let removed = 0;
      for (;;) {
        const changes = Number((await writing(() => expire.run(upTo, now))).changes);
        removed += changes;
        if (changes < SCAVENGE_SLICE) return removed;
        await new Promise((r) => setImmediate(r));
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      wake();
      db.close();
    },
  };
}
