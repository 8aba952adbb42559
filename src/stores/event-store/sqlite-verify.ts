/**
 * Checking the embedded event store's file (`DATA_DIR/events.db`): the logic behind
 * `npm run store:verify` (scripts/store-verify.ts), meant to run with the service stopped.
 *
 * Verifying opens the file read-only, runs SQLite's `integrity_check`, then reads every event in
 * position order and checks that each row reads, that its data and metadata are JSON, that positions
 * increase and that each stream's revisions follow one another. The first row that fails is where the
 * damage starts; everything before it is intact. Repairing (sqlite-repair.ts) keeps what that finds.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3-multiple-ciphers';
import { categoryOf } from './port.js';
import { type EventRow, openStoreFile } from './sqlite.js';
/** The file is missing or is not a file: the command was given the wrong path. */
export class StoreFileUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFileUsageError';
  }
}

/** Repair declined to replace the file (nothing in it reads as an event store) or could not finish. */
export class StoreRepairError extends Error {
  /** What the file was found to be, when it was read before the repair stopped. */
  readonly report: StoreFileReport | null;
  constructor(message: string, options?: ErrorOptions & { readonly report?: StoreFileReport }) {
    super(message, options);
    this.name = 'StoreRepairError';
    this.report = options?.report ?? null;
  }
}

/** Where the damage starts: everything up to `lastGoodPosition` reads intact. */
export interface StoreDamage {
  /** The last position read intact before the damage; null when not even the first event reads. */
  readonly lastGoodPosition: bigint | null;
  /** What went wrong with the next row: SQLite's error, JSON that does not parse, a position out of order… */
  readonly error: string;
}

export interface StoreFileReport {
  readonly file: string;
  /** No problem found: integrity_check passed, every event read and checked. */
  readonly intact: boolean;
  readonly integrity: { readonly ok: boolean; readonly messages: readonly string[] };
  /** The store's identity (meta 'epoch'), or null when it does not read. */
  readonly epoch: string | null;
  /** Events read intact, in position order, up to the damage if there is one. */
  readonly eventsRead: number;
  readonly firstPosition: bigint | null;
  /** The last position read intact. */
  readonly lastPosition: bigint | null;
  /** Streams among the events read. */
  readonly streams: number;
  /**
   * The largest position the file ever gave, as far as it still tells (its `sqlite_sequence`, its
   * largest position, the events read); null when none reads.
   */
  readonly highestPosition: bigint | null;
  readonly damage: StoreDamage | null;
  /**
   * What else is wrong, in words: a table that does not read, streams that disagree with their events.
   * The file is intact when integrity_check passes, there is no damage and this is empty.
   */
  readonly inconsistencies: readonly string[];
  /** Things worth knowing that are not damage. */
  readonly notes: readonly string[];
}

interface OldStream {
  readonly revision: bigint | null;
  readonly maxAgeMs: bigint | null;
}

interface Scan {
  readonly report: StoreFileReport;
  /** The events table could be queried at all (the file is an SQLite database with that table). */
  readonly eventsTableReads: boolean;
  /** The old `streams` table, or null when it does not read. */
  readonly oldStreams: ReadonlyMap<string, OldStream> | null;
  /** The old `meta` table, or null when it does not read. */
  readonly meta: ReadonlyMap<string, string> | null;
  /** Highest revision per stream among the events read. */
  readonly revisions: ReadonlyMap<string, bigint>;
}

/** At most this many lines of integrity_check output, and of per-stream findings, are reported. */
const MAX_MESSAGES = 10;
/** Rows copied per transaction by a repair. */
export const COPY_BATCH = 5000;

/**
 * The store file: `--file PATH` (relative to the directory npm was run from), else `DATA_DIR/events.db`
 * (DATA_DIR defaulting to ./data, relative to the current directory, as the service resolves it).
 */
export function storeFilePath(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file !== undefined) return resolve(env.INIT_CWD ?? process.cwd(), file);
  const dataDir = env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR;
  return join(resolve(dataDir), 'events.db');
}

export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && code.startsWith('SQLITE_') ? `${code}: ${message}` : message;
}

export function requireFile(path: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new StoreFileUsageError(`no such file: ${path}`);
    throw error;
  }
  if (!stat.isFile()) throw new StoreFileUsageError(`not a file: ${path}`);
}

/**
 * Opens the file read-only, so that nothing is written to it whatever is wrong with it, and runs `read`.
 * Reading a WAL-mode file read-only makes SQLite create empty `-wal`/`-shm` files beside it when they are
 * missing; those are removed again afterwards (by a connection that opens and closes the file the way
 * SQLite itself removes them: only when no one else has the file open, and with an empty WAL there is
 * nothing to write back).
 */
export function withReadOnly<T>(
  path: string,
  read: (db: Database.Database) => T,
  key: Buffer | null = null,
): T {
  const hadWal = existsSync(`${path}-wal`);
  const hadShm = existsSync(`${path}-shm`);
  const db = openStoreFile(path, key, { readonly: true, fileMustExist: true });
  try {
    // A file shorter than its header says (truncated) is refused as a whole unless the schema is
    // "writable"; with it, SQLite reads the pages that are there and fails on the ones that are not.
    // Defensive mode (better-sqlite3's default) ignores writable_schema, hence unsafe mode. The
    // connection is read-only: nothing is written either way.
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    // Extra sanity checks on each b-tree page as it is read: a damaged page fails instead of giving garbage.
    db.pragma('cell_size_check = ON');
    db.defaultSafeIntegers(true);
    return read(db);
  } finally {
    db.close();
    if (
      !hadWal &&
      !hadShm &&
      existsSync(`${path}-wal`) &&
      statSync(`${path}-wal`).size === 0 &&
      !existsSync(`${path}-journal`)
    ) {
      try {
        const cleaner = openStoreFile(path, key, { fileMustExist: true });
        try {
          cleaner.pragma('schema_version');
        } catch {
          // A damaged file still gets its WAL opened, and closed (removed) below.
        } finally {
          cleaner.close();
        }
      } catch {
        // Leaving an empty -wal/-shm behind is harmless.
      }
    }
  }
}

function integrityOf(db: Database.Database): StoreFileReport['integrity'] {
  try {
    const rows = db.pragma(`integrity_check(${MAX_MESSAGES})`) as { integrity_check: unknown }[];
    const messages = rows.map((r) => String(r.integrity_check));
    const ok = messages.length === 1 && messages[0] === 'ok';
    return { ok, messages: ok ? [] : messages };
  } catch (error) {
    return { ok: false, messages: [describeError(error)] };
  }
}

function parses(text: unknown, what: string, object: boolean): string | null {
  if (typeof text !== 'string') return `${what} is not text`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `${what} is not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (object && (typeof value !== 'object' || value === null || Array.isArray(value)))
    return `${what} is not a JSON object`;
  return null;
}

/** Why this row is not an intact event following `previous`, or null when it is. */
function rowProblem(
  row: EventRow,
  previous: bigint | null,
  revisions: ReadonlyMap<string, bigint>,
  oldStreams: ReadonlyMap<string, OldStream> | null,
  notes: string[],
): string | null {
  if (typeof row.position !== 'bigint' || row.position < 1n)
    return `${previous === null ? 'the first row' : `the row after position ${previous}`} does not read: its position reads as ${String(row.position)}`;
  if (previous !== null && row.position <= previous)
    return `position ${row.position} comes after position ${previous}: positions out of order`;
  const at = `position ${row.position}`;
  if (typeof row.event_id !== 'string' || row.event_id === '') return `${at}: the event id is missing`;
  if (typeof row.stream_id !== 'string' || row.stream_id === '') return `${at}: the stream id is missing`;
  if (row.category !== categoryOf(row.stream_id))
    return `${at}: category ${JSON.stringify(row.category)} does not match stream ${JSON.stringify(row.stream_id)}`;
  if (typeof row.type !== 'string' || row.type === '') return `${at}: the event type is missing`;
  if (typeof row.revision !== 'bigint' || row.revision < 0n)
    return `${at}: invalid revision (${String(row.revision)})`;
  if (typeof row.created_at !== 'bigint') return `${at}: invalid time (${String(row.created_at)})`;
  const data = parses(row.data, 'data', false);
  if (data) return `${at}: ${data}`;
  const metadata = parses(row.metadata, 'metadata', true);
  if (metadata) return `${at}: ${metadata}`;
  const last = revisions.get(row.stream_id);
  if (last !== undefined && row.revision !== last + 1n) {
    const gap = `stream ${row.stream_id} goes from revision ${last} to ${row.revision}`;
    // Expiry by age removes by time, so a stream with a max age may, with a clock that went back, lose
    // an event from between two it keeps. Anywhere else a gap means rows that no longer read.
    const expires = oldStreams?.get(row.stream_id)?.maxAgeMs != null;
    if (row.revision <= last || !expires) return `${at}: ${gap}`;
    if (notes.length < MAX_MESSAGES) notes.push(`${at}: ${gap} (the stream has a max age: expired events)`);
  }
  return null;
}

interface ScanOptions {
  /** Run `PRAGMA integrity_check` (a repair's second read skips it). */
  readonly integrity: boolean;
  /** Stop after this position. */
  readonly upTo?: bigint | null;
  /** Called with each intact event, in position order; a string returned stops the read there (it is damage). */
  readonly onEvent?: (row: EventRow) => string | undefined;
  /** The event log's subkey when the file is encrypted (DATA_ENCRYPTION_KEY). */
  readonly key?: Buffer | null;
}

export function scanFile(path: string, options: ScanOptions): Scan {
  requireFile(path);
  const walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  return withReadOnly(
    path,
    (db) => {
      const problems: string[] = [];
      const notes: string[] = [];
      if (walBytes > 0)
        notes.push(
          `${path}-wal holds ${walBytes} bytes not yet written back into the file: the service is running (stop it first) or did not stop cleanly; the events committed in it are read too`,
        );
      const integrity = options.integrity ? integrityOf(db) : { ok: true, messages: [] };

      const meta = attempt(() => {
        const rows = db.prepare<[], { key: unknown; value: unknown }>('SELECT key, value FROM meta').all();
        return new Map(rows.map((r) => [String(r.key), String(r.value)]));
      });
      let epoch: string | null = null;
      if (!meta.ok) problems.push(`the meta table does not read (${meta.error})`);
      else {
        epoch = meta.value.get('epoch') ?? null;
        if (epoch === null)
          notes.push('no epoch in meta (the service writes one when it next opens the file)');
      }

      const oldStreams = attempt(() => {
        const columns = db.prepare<[], { name: string }>('PRAGMA table_info(streams)').all();
        const withAge = columns.some((c) => c.name === 'max_age_ms');
        const rows = db
          .prepare<[], { stream_id: unknown; revision: unknown; max_age_ms: unknown }>(
            `SELECT stream_id, revision, ${withAge ? 'max_age_ms' : 'NULL AS max_age_ms'} FROM streams`,
          )
          .all();
        return new Map(
          rows.map((r) => [
            String(r.stream_id),
            {
              revision: typeof r.revision === 'bigint' ? r.revision : null,
              maxAgeMs: typeof r.max_age_ms === 'bigint' ? r.max_age_ms : null,
            },
          ]),
        );
      });
      if (!oldStreams.ok) problems.push(`the streams table does not read (${oldStreams.error})`);
      const streamsTable = oldStreams.ok ? oldStreams.value : null;

      // The largest position ever given: AUTOINCREMENT keeps it in sqlite_sequence, deleted rows included.
      let highest: bigint | null = null;
      const raise = (p: unknown) => {
        if (typeof p === 'bigint' && p > 0n && (highest === null || p > highest)) highest = p;
      };
      const sequence = attempt(
        () =>
          db.prepare<[], { seq: unknown }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()
            ?.seq,
      );
      if (sequence.ok) raise(sequence.value);
      const maxPosition = attempt(
        () => db.prepare<[], { p: unknown }>('SELECT max(position) AS p FROM events').get()?.p,
      );
      if (maxPosition.ok) raise(maxPosition.value);

      const revisions = new Map<string, bigint>();
      let eventsRead = 0;
      let first: bigint | null = null;
      let last: bigint | null = null;
      let damage: StoreDamage | null = null;
      let eventsTableReads = false;
      let failure: { error: unknown } | null = null;
      try {
        const select = db.prepare<[], EventRow>(
          'SELECT position, event_id, stream_id, revision, category, type, data, metadata, created_at FROM events ORDER BY position',
        );
        eventsTableReads = true;
        for (const row of select.iterate()) {
          const wrong = rowProblem(row, last, revisions, streamsTable, notes);
          if (wrong) {
            damage = { lastGoodPosition: last, error: wrong };
            break;
          }
          let refused: string | undefined;
          try {
            refused = options.onEvent?.(row);
          } catch (error) {
            failure = { error };
            break;
          }
          if (refused) {
            damage = { lastGoodPosition: last, error: refused };
            break;
          }
          eventsRead++;
          first ??= row.position;
          last = row.position;
          revisions.set(row.stream_id, row.revision);
          if (options.upTo != null && row.position >= options.upTo) break;
        }
      } catch (error) {
        damage = { lastGoodPosition: last, error: describeError(error) };
      }
      if (failure) throw failure.error;
      raise(last);

      if (streamsTable) {
        const wrong: string[] = [];
        for (const [streamId, revision] of revisions) {
          const recorded = streamsTable.get(streamId);
          if (!recorded) wrong.push(`stream ${streamId} has events but no row in the streams table`);
          else if (recorded.revision === null || recorded.revision < revision)
            wrong.push(
              `stream ${streamId} has an event at revision ${revision} but the streams table says ${recorded.revision ?? 'nothing'}`,
            );
        }
        if (wrong.length)
          problems.push(
            ...wrong.slice(0, MAX_MESSAGES),
            ...(wrong.length > MAX_MESSAGES ? [`… and ${wrong.length - MAX_MESSAGES} more streams`] : []),
          );
      }

      return {
        report: {
          file: path,
          intact: integrity.ok && damage === null && problems.length === 0,
          integrity,
          epoch,
          eventsRead,
          firstPosition: first,
          lastPosition: last,
          streams: revisions.size,
          highestPosition: highest,
          damage,
          inconsistencies: problems,
          notes,
        },
        eventsTableReads,
        oldStreams: streamsTable,
        meta: meta.ok ? meta.value : null,
        revisions,
      };
    },
    options.key ?? null,
  );
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: string };
function attempt<T>(read: () => T): Attempt<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

/**
 * Checks the store file without changing it (read-only). Throws StoreFileUsageError when there is no
 * such file; any damage is in the report, never thrown.
 */
export function verifyStoreFile(path: string, key: Buffer | null = null): StoreFileReport {
  return scanFile(path, { integrity: true, key }).report;
}

export const range = (first: bigint | null, last: bigint | null) =>
  first === null ? '' : first === last ? ` (position ${first})` : ` (positions ${first} to ${last})`;

/** The report in words, one line each. */
export function describeReport(report: StoreFileReport): string[] {
  const lines = [
    `event store file: ${report.file}`,
    ...(report.integrity.ok
      ? ['integrity_check: ok']
      : [
          'integrity_check: FAILED',
          ...report.integrity.messages
            .flatMap((m) => m.split('\n'))
            .filter((l) => l !== '' && !/^\*\*\* in database \w+ \*\*\*$/.test(l))
            .map((l) => `  ${l}`),
        ]),
    `epoch: ${report.epoch ?? 'unknown'}`,
    `events read: ${report.eventsRead}${range(report.firstPosition, report.lastPosition)} in ${report.streams} stream${report.streams === 1 ? '' : 's'}`,
  ];
  if (report.highestPosition !== null && report.highestPosition !== report.lastPosition)
    lines.push(`highest position the file ever gave: ${report.highestPosition}`);
  if (report.damage)
    lines.push(
      `damage starts after ${report.damage.lastGoodPosition === null ? 'the start of the log (no event reads)' : `position ${report.damage.lastGoodPosition} (the last good one)`}: ${report.damage.error}`,
    );
  for (const inconsistency of report.inconsistencies) lines.push(`inconsistency: ${inconsistency}`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push(
    report.intact
      ? 'result: INTACT'
      : report.eventsRead === 0
        ? "result: DAMAGED: no event reads. With the service stopped, 'npm run store:repair' sets the file aside and starts an empty store (it asks for --force when the file has no events table at all)."
        : `result: DAMAGED. With the service stopped, 'npm run store:repair' keeps the ${report.eventsRead} event${report.eventsRead === 1 ? '' : 's'} read intact${report.lastPosition === null ? '' : ` (up to position ${report.lastPosition})`} and sets the damaged file aside ('npm run store:repair -- --dry-run' first shows what it would keep).`,
  );
  return lines;
}

/** JSON with positions as numbers (as strings past 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      typeof v === 'bigint'
        ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString()
        : v,
    2,
  );
}
