/**
 * Checking and repairing the embedded event store's file (`DATA_DIR/events.db`): the logic behind
 * `npm run store:verify` and `npm run store:repair` (scripts/store-verify.ts, scripts/store-repair.ts).
 * Both are meant to run with the service stopped.
 *
 * Verifying opens the file read-only, runs SQLite's `integrity_check`, then reads every event in
 * position order and checks that each row reads, that its data and metadata are JSON, that positions
 * increase and that each stream's revisions follow one another. The first row that fails is where the
 * damage starts; everything before it is intact.
 *
 * Repairing copies the events up to the damage into a new file with the same schema (same positions,
 * ids, streams, revisions, types, data, metadata and times), rebuilds `streams`, gives the new file a
 * new epoch (a repaired log is another log: checkpoints kept outside it must not be trusted), lets new
 * positions continue after the largest position the damaged file ever gave, then sets the damaged file
 * aside (`events.db.damaged-<time>`) and puts the repaired one in its place.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { categoryOf } from './port.js';
import { createSqliteEventStore, type EventRow } from './sqlite.js';

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
const COPY_BATCH = 5000;

/**
 * The store file: `--file PATH` (relative to the directory npm was run from), else `DATA_DIR/events.db`
 * (DATA_DIR defaulting to ./data, relative to the current directory, as the service resolves it).
 */
export function storeFilePath(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file !== undefined) return resolve(env.INIT_CWD ?? process.cwd(), file);
  const dataDir = env.DATA_DIR === undefined || env.DATA_DIR === '' ? './data' : env.DATA_DIR;
  return join(resolve(dataDir), 'events.db');
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && code.startsWith('SQLITE_') ? `${code}: ${message}` : message;
}

function requireFile(path: string): void {
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
function withReadOnly<T>(path: string, read: (db: Database.Database) => T): T {
  const hadWal = existsSync(`${path}-wal`);
  const hadShm = existsSync(`${path}-shm`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
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
        const cleaner = new Database(path, { fileMustExist: true });
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
}

function scanFile(path: string, options: ScanOptions): Scan {
  requireFile(path);
  const walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  return withReadOnly(path, (db) => {
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
      if (epoch === null) notes.push('no epoch in meta (the service writes one when it next opens the file)');
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
        db.prepare<[], { seq: unknown }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()?.seq,
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
  });
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
export function verifyStoreFile(path: string): StoreFileReport {
  return scanFile(path, { integrity: true }).report;
}

export interface RepairOptions {
  /** Report what would be kept, and write nothing. */
  readonly dryRun?: boolean;
  /** Replace the file even when nothing in it reads as an event store (no events table at all). */
  readonly force?: boolean;
  /** The time in the damaged file's new name (default: now). */
  readonly now?: Date;
}

export interface RepairResult {
  /** What the file was found to be before the repair. */
  readonly report: StoreFileReport;
  /** `intact`: nothing to do, nothing changed; `dryRun`: nothing written; `repaired`: the file was replaced. */
  readonly outcome: 'intact' | 'dryRun' | 'repaired';
  /** Events kept (or that would be). */
  readonly kept: number;
  readonly firstKeptPosition: bigint | null;
  readonly lastKeptPosition: bigint | null;
  /** New events get positions after this one. */
  readonly positionsContinueAfter: bigint;
  readonly oldEpoch: string | null;
  /** The repaired store's epoch (null unless repaired). */
  readonly newEpoch: string | null;
  /** Where the damaged file now is (null unless repaired). */
  readonly damagedFile: string | null;
  /** Every file set aside (the damaged file, and its -wal/-shm when there were any). */
  readonly movedAside: readonly string[];
}

/** Size and modification time of the file and its WAL: a change while repairing means someone writes to it. */
function fingerprint(path: string): string {
  return ['', '-wal']
    .map((suffix) => {
      try {
        const s = statSync(`${path}${suffix}`);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeWithSidecars(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/** A name beside `path` that is not taken: `base`, else `base-1`, `base-2`… (sidecars included). */
function freeName(base: string): string {
  for (let i = 0; ; i++) {
    const name = i === 0 ? base : `${base}-${i}`;
    if (!['', '-wal', '-shm'].some((s) => existsSync(`${name}${s}`))) return name;
  }
}

/**
 * Keeps every event up to the damage: writes them into a new file, sets the damaged file (and its
 * -wal/-shm) aside as `<file>.damaged-<ISO time without colons>` and puts the new file in its place.
 * An intact file is left as it is. Throws StoreFileUsageError when there is no such file and
 * StoreRepairError when it declines or cannot finish (the original file is then untouched).
 */
export async function repairStoreFile(path: string, options: RepairOptions = {}): Promise<RepairResult> {
  requireFile(path);
  const before = fingerprint(path);
  const first = scanFile(path, { integrity: true });
  const report = first.report;
  const continueAfter = (kept: bigint | null) => {
    const highest = report.highestPosition ?? 0n;
    const last = kept ?? 0n;
    return highest > last ? highest : last;
  };
  const unchanged = {
    report,
    kept: report.eventsRead,
    firstKeptPosition: report.firstPosition,
    lastKeptPosition: report.lastPosition,
    positionsContinueAfter: continueAfter(report.lastPosition),
    oldEpoch: report.epoch,
    newEpoch: null,
    damagedFile: null,
    movedAside: [],
  } as const;
  if (report.intact) return { ...unchanged, outcome: 'intact' };
  if (!first.eventsTableReads && !options.force)
    throw new StoreRepairError(
      `nothing in ${path} reads as an event store (${report.damage?.error ?? 'no events table'}): no event can be recovered. The file is left as it is; to set it aside and start with an empty store, run the repair again with --force.`,
      { report },
    );
  if (options.dryRun) return { ...unchanged, outcome: 'dryRun' };

  const stamp = (options.now ?? new Date()).toISOString().replace(/:/g, '');
  const temp = freeName(`${path}.repair-${stamp}`);
  try {
    // The new file gets exactly the schema the service creates, and a fresh epoch.
    await createSqliteEventStore({ path: temp }).close();
    const db = new Database(temp, { fileMustExist: true });
    let kept: { count: number; first: bigint | null; last: bigint | null };
    let newEpoch: string;
    try {
      db.defaultSafeIntegers(true);
      const insert = db.prepare(
        'INSERT INTO events (position, event_id, stream_id, revision, category, type, data, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      let inBatch = 0;
      db.exec('BEGIN');
      const second = scanFile(path, {
        integrity: false,
        upTo: report.lastPosition,
        onEvent: (row) => {
          try {
            insert.run(
              row.position,
              row.event_id,
              row.stream_id,
              row.revision,
              row.category,
              row.type,
              row.data,
              row.metadata,
              row.created_at,
            );
          } catch (error) {
            // The same event id or stream revision twice: the file holds rows it cannot have written.
            const code = (error as { code?: unknown }).code;
            if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'))
              return `position ${row.position}: ${describeError(error)}`;
            throw error;
          }
          if (++inBatch >= COPY_BATCH) {
            db.exec('COMMIT');
            db.exec('BEGIN');
            inBatch = 0;
          }
          return undefined;
        },
      });
      kept = {
        count: second.report.eventsRead,
        first: second.report.firstPosition,
        last: second.report.lastPosition,
      };
      // Streams: each stream's last kept revision, its max age when the old table still tells it; a
      // stream kept only for its max age (no events yet) keeps its -1 row.
      const insertStream = db.prepare(
        'INSERT INTO streams (stream_id, revision, max_age_ms) VALUES (?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision, max_age_ms = excluded.max_age_ms',
      );
      for (const [streamId, revision] of second.revisions)
        insertStream.run(streamId, revision, first.oldStreams?.get(streamId)?.maxAgeMs ?? null);
      for (const [streamId, old] of first.oldStreams ?? [])
        if (old.maxAgeMs !== null && !second.revisions.has(streamId))
          insertStream.run(streamId, -1n, old.maxAgeMs);
      // Other meta entries are kept; the epoch is new: a repaired log is not the log it was.
      const setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      for (const [key, value] of first.meta ?? []) if (key !== 'epoch') setMeta.run(key, value);
      newEpoch = randomUUID();
      setMeta.run('epoch', newEpoch);
      // Positions never given twice: new ones continue after the largest the damaged file ever gave.
      const sequence = continueAfter(kept.last);
      if (db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'").run(sequence).changes === 0)
        db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)").run(sequence);
      db.exec('COMMIT');
      const check = (db.pragma('integrity_check') as { integrity_check: unknown }[]).map((r) =>
        String(r.integrity_check),
      );
      if (check.length !== 1 || check[0] !== 'ok')
        throw new StoreRepairError(`the repaired file fails integrity_check: ${check.join('; ')}`);
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    }
    if (existsSync(`${temp}-wal`)) throw new StoreRepairError(`the repaired file ${temp} kept a WAL`);
    fsyncPath(temp);

    // It opens as the service opens it, with the new identity and the events kept.
    const reopened = createSqliteEventStore({ path: temp });
    try {
      const { epoch } = await reopened.identity();
      const head = await reopened.headPosition();
      if (epoch !== newEpoch || head !== kept.last)
        throw new StoreRepairError(
          `the repaired file does not read back as written (epoch ${epoch}, head ${head ?? 'none'})`,
        );
    } finally {
      await reopened.close();
    }

    if (fingerprint(path) !== before)
      throw new StoreRepairError(
        `${path} changed while it was being repaired: is the service running? Stop it and run the repair again.`,
      );

    // The damaged file's WAL and shared memory go first: a WAL left beside the new file would be
    // replayed into it.
    const damagedFile = freeName(`${path}.damaged-${stamp}`);
    const movedAside: string[] = [];
    for (const suffix of ['-wal', '-shm', '']) {
      if (!existsSync(`${path}${suffix}`)) continue;
      renameSync(`${path}${suffix}`, `${damagedFile}${suffix}`);
      movedAside.push(`${damagedFile}${suffix}`);
    }
    renameSync(temp, path);
    try {
      fsyncPath(dirname(path));
    } catch {
      // Not every platform can fsync a directory.
    }
    return {
      report,
      outcome: 'repaired',
      kept: kept.count,
      firstKeptPosition: kept.first,
      lastKeptPosition: kept.last,
      positionsContinueAfter: continueAfter(kept.last),
      oldEpoch: report.epoch,
      newEpoch,
      damagedFile,
      movedAside: movedAside.reverse(),
    };
  } catch (error) {
    removeWithSidecars(temp);
    if (error instanceof StoreFileUsageError) throw error;
    const reason = error instanceof StoreRepairError ? error.message : describeError(error);
    throw new StoreRepairError(`the repair of ${path} failed (${reason}); the file is unchanged`, {
      cause: error,
      report,
    });
  }
}

const range = (first: bigint | null, last: bigint | null) =>
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

/** The repair's outcome in words, one line each. */
export function describeRepair(result: RepairResult): string[] {
  const { report } = result;
  if (result.outcome === 'intact')
    return [...describeReport(report).slice(0, -1), 'result: INTACT: nothing to repair, nothing changed'];
  const lines = describeReport(report).slice(0, -1);
  const kept = `${result.kept} event${result.kept === 1 ? '' : 's'}${range(result.firstKeptPosition, result.lastKeptPosition)}`;
  const lost =
    report.highestPosition !== null && (result.lastKeptPosition ?? 0n) < report.highestPosition
      ? `; the events after position ${result.lastKeptPosition ?? 0}, up to position ${report.highestPosition}, cannot be read and are not kept`
      : '';
  if (result.outcome === 'dryRun') {
    lines.push(
      `dry run: a repair would keep ${kept}${lost}; new events would get positions after ${result.positionsContinueAfter}`,
      'dry run: nothing was written',
    );
    return lines;
  }
  lines.push(
    `kept ${kept}${lost}`,
    `last position kept: ${result.lastKeptPosition ?? 'none'}; new events get positions after ${result.positionsContinueAfter}`,
    `damaged file set aside as ${result.damagedFile}${result.movedAside.length > 1 ? ` (with ${result.movedAside.slice(1).join(', ')})` : ''}`,
    `the repaired store has a new epoch ${result.newEpoch} (it was ${result.oldEpoch ?? 'unknown'}): a repaired log is another log, so every checkpoint kept outside it (the ClickHouse projections) stops at the next start and asks for a rebuild: run 'npm run projection:rebuild -- NAME' for each projection it names (or '-- --all')`,
    'result: REPAIRED',
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
