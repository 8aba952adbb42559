/**
 * Repairing the embedded event store's file: the logic behind `npm run store:repair`
 * (scripts/store-repair.ts), meant to run with the service stopped.
 *
 * It copies the events up to the damage (as sqlite-verify.ts finds it) into a new file with the same
 * schema (same positions, ids, streams, revisions, types, data, metadata and times), rebuilds
 * `streams`, gives the new file a new epoch (a repaired log is another log: checkpoints kept outside it
 * must not be trusted), lets new positions continue after the largest position the damaged file ever
 * gave, then sets the damaged file aside (`events.db.damaged-<time>`) and puts the repaired one in its
 * place.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSqliteEventStore, openStoreFile } from './sqlite.js';
import {
  COPY_BATCH,
  describeError,
  describeReport,
  range,
  requireFile,
  type StoreFileReport,
  StoreFileUsageError,
  StoreRepairError,
  scanFile,
} from './sqlite-verify.js';
export interface RepairOptions {
  /** Report what would be kept, and write nothing. */
  readonly dryRun?: boolean;
  /** Replace the file even when nothing in it reads as an event store (no events table at all). */
  readonly force?: boolean;
  /** The time in the damaged file's new name (default: now). */
  readonly now?: Date;
  /** The event log's subkey when the file is encrypted (DATA_ENCRYPTION_KEY): the repaired file is too. */
  readonly key?: Buffer | null;
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
  const key = options.key ?? null;
  const first = scanFile(path, { integrity: true, key });
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
    await createSqliteEventStore({ path: temp, key }).close();
    const db = openStoreFile(temp, key, { fileMustExist: true });
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
        key,
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
    const reopened = createSqliteEventStore({ path: temp, key });
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
