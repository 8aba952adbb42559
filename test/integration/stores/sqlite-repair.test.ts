import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { repairStoreFile } from '../../../src/stores/event-store/sqlite-repair.js';
import {
  StoreFileUsageError,
  StoreRepairError,
  verifyStoreFile,
} from '../../../src/stores/event-store/sqlite-verify.js';
import { runToExit, startTsChild } from '../../support/child-process.js';
import { tempDir } from '../../support/fixtures.js';

const COUNT = 400;
const STREAMS = 7;
const PAGE_SIZE = 4096;

/** An intact store file written by the store itself, and every event in it as the store reads them. */
let fixture: string;
let events: RecordedEvent[];
let epoch: string;
/** The events table's leaf pages in b-tree (position) order, with how many rows each holds. */
let leaves: { pageno: number; ncell: number }[];

beforeAll(async () => {
  fixture = join(tempDir('store-repair-'), 'events.db');
  const store = createSqliteEventStore({ path: fixture });
  for (let i = 0; i < COUNT; i++) {
    // Every fifth event is large (it spills onto overflow pages), so the file has many pages.
    const pad = 'x'.repeat(i % 5 === 0 ? 6000 : 150);
    await store.append(`meter-${i % STREAMS}`, [
      { id: randomUUID(), type: i % 2 ? 'sampled' : 'reset', data: { i, pad }, metadata: { n: i } },
    ]);
  }
  events = [];
  for await (const event of store.readAll()) events.push(event);
  epoch = (await store.identity()).epoch;
  await store.close();
  const db = new Database(fixture);
  leaves = db
    .prepare<[], { pageno: number; ncell: number }>(
      "SELECT pageno, ncell FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY path",
    )
    .all();
  db.close();
});

/** A copy of the fixture as `events.db` in a directory of its own. */
function copyOfFixture(): string {
  const path = join(tempDir('store-repair-'), 'events.db');
  copyFileSync(fixture, path);
  return path;
}

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const listing = (path: string) => readdirSync(join(path, '..')).sort();

async function readBack(path: string): Promise<{ events: RecordedEvent[]; epoch: string }> {
  const store = createSqliteEventStore({ path });
  try {
    const read: RecordedEvent[] = [];
    for await (const event of store.readAll()) read.push(event);
    return { events: read, epoch: (await store.identity()).epoch };
  } finally {
    await store.close();
  }
}

/** A repaired file: the events kept are the original ones, a new epoch, appends go on after every old position. */
async function expectRepaired(path: string, kept: number): Promise<void> {
  const back = await readBack(path);
  expect(back.events).toEqual(events.slice(0, kept));
  expect(back.epoch).not.toBe(epoch);
  const store = createSqliteEventStore({ path });
  try {
    // Streams were rebuilt: appending at a stream's last kept revision is accepted.
    const last = events[kept - 1]!;
    const appended = await store.append(last.streamId, [{ id: randomUUID(), type: 'after', data: {} }], {
      expectedRevision: last.revision,
    });
    expect(appended.nextExpectedRevision).toBe(last.revision + 1n);
    expect(appended.position).toBeGreaterThan(events[events.length - 1]!.position);
  } finally {
    await store.close();
  }
}

describe('store:verify and store:repair (embedded SQLite)', () => {
  it('finds an intact file intact, and changes nothing, not even beside it', async () => {
    const path = copyOfFixture();
    const [bytes, files] = [hash(path), listing(path)];
    const report = verifyStoreFile(path);
    expect(report).toMatchObject({
      intact: true,
      integrity: { ok: true },
      epoch,
      eventsRead: COUNT,
      firstPosition: 1n,
      lastPosition: BigInt(COUNT),
      streams: STREAMS,
      damage: null,
      inconsistencies: [],
    });
    const result = await repairStoreFile(path);
    expect(result.outcome).toBe('intact');
    expect(hash(path)).toBe(bytes);
    expect(listing(path)).toEqual(files);
  });

  it('keeps every event up to the damage of a file truncated to half', async () => {
    const path = copyOfFixture();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const damagedBytes = hash(path);

    const report = verifyStoreFile(path);
    expect(report.intact).toBe(false);
    expect(report.epoch).toBe(epoch);
    expect(report.eventsRead).toBeGreaterThan(COUNT / 10);
    expect(report.eventsRead).toBeLessThan(COUNT);
    expect(report.damage?.lastGoodPosition).toBe(events[report.eventsRead - 1]!.position);
    expect(report.lastPosition).toBe(report.damage?.lastGoodPosition);
    expect(report.highestPosition).toBe(BigInt(COUNT));

    const dry = await repairStoreFile(path, { dryRun: true });
    expect(dry).toMatchObject({ outcome: 'dryRun', kept: report.eventsRead, damagedFile: null });
    expect(hash(path)).toBe(damagedBytes);

    const result = await repairStoreFile(path, { now: new Date('2030-01-02T03:04:05.678Z') });
    expect(result).toMatchObject({
      outcome: 'repaired',
      kept: report.eventsRead,
      lastKeptPosition: report.lastPosition,
      positionsContinueAfter: BigInt(COUNT),
      oldEpoch: epoch,
    });
    // The damaged file is kept beside the repaired one, byte for byte.
    expect(result.damagedFile).toBe(`${path}.damaged-2030-01-02T030405.678Z`);
    expect(hash(result.damagedFile!)).toBe(damagedBytes);
    expect(listing(path)).toEqual(['events.db', 'events.db.damaged-2030-01-02T030405.678Z']);

    expect(verifyStoreFile(path)).toMatchObject({ intact: true, epoch: result.newEpoch });
    await expectRepaired(path, report.eventsRead);
  });

  it('keeps what reads before a page overwritten in the middle of the file', async () => {
    const path = copyOfFixture();
    const victim = Math.floor(leaves.length / 2);
    const before = leaves.slice(0, victim).reduce((n, leaf) => n + leaf.ncell, 0);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(PAGE_SIZE, 0xa5), 0, PAGE_SIZE, (leaves[victim]!.pageno - 1) * PAGE_SIZE);
    closeSync(fd);

    const report = verifyStoreFile(path);
    expect(report.intact).toBe(false);
    expect(report.integrity.ok).toBe(false);
    expect(report.eventsRead).toBe(before);
    expect(report.damage).toMatchObject({ lastGoodPosition: events[before - 1]!.position });
    expect(report.damage?.error).toMatch(/SQLITE_CORRUPT/);

    const result = await repairStoreFile(path);
    expect(result.kept).toBe(before);
    expect(existsSync(result.damagedFile!)).toBe(true);
    await expectRepaired(path, before);
  });

  it('finds damage SQLite does not see: a revision missing from a stream, data that is not JSON', async () => {
    const gap = copyOfFixture();
    let db = new Database(gap);
    db.prepare('DELETE FROM events WHERE position = 200').run();
    db.close();
    // The event after 200 in the same stream is 200 + STREAMS: its revision skips one.
    expect(verifyStoreFile(gap)).toMatchObject({
      intact: false,
      integrity: { ok: true },
      eventsRead: 200 + STREAMS - 2,
      damage: { lastGoodPosition: BigInt(200 + STREAMS - 1) },
    });
    expect(verifyStoreFile(gap).damage?.error).toMatch(/goes from revision \d+ to \d+/);

    const notJson = copyOfFixture();
    db = new Database(notJson);
    db.prepare(`UPDATE events SET data = '{"i": 300, "pad": "xx' WHERE position = 300`).run();
    db.close();
    const report = verifyStoreFile(notJson);
    expect(report).toMatchObject({ intact: false, eventsRead: 299, damage: { lastGoodPosition: 299n } });
    expect(report.damage?.error).toMatch(/position 300: data is not JSON/);
    expect((await repairStoreFile(notJson)).kept).toBe(299);
    await expectRepaired(notJson, 299);
  });

  it('reports a file that is no database at all, and replaces it only when forced', async () => {
    const path = join(tempDir('store-repair-'), 'events.db');
    writeFileSync(path, Buffer.alloc(3 * PAGE_SIZE, 0x5a));
    const report = verifyStoreFile(path);
    expect(report).toMatchObject({ intact: false, eventsRead: 0, epoch: null });
    expect(report.damage?.error).toMatch(/SQLITE_NOTADB/);
    await expect(repairStoreFile(path)).rejects.toBeInstanceOf(StoreRepairError);
    expect(listing(path)).toEqual(['events.db']);
    expect(() => verifyStoreFile(`${path}.missing`)).toThrow(StoreFileUsageError);

    const result = await repairStoreFile(path, { force: true });
    expect(result).toMatchObject({ outcome: 'repaired', kept: 0 });
    expect((await readBack(path)).events).toEqual([]);
  });

  it('runs as commands: exit codes, lines and JSON', async () => {
    const intact = copyOfFixture();
    const damaged = copyOfFixture();
    truncateSync(damaged, Math.floor(statSync(damaged).size / 2));
    const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
      runToExit(startTsChild(`scripts/${script}.ts`, args, env));

    const [ok, json, usage, missing] = await Promise.all([
      run('store-verify', ['--file', intact]),
      run('store-verify', ['--file', damaged, '--json']),
      run('store-verify', ['--frobnicate']),
      run('store-repair', ['--file', `${intact}.missing`]),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('service stopped');
    expect(ok.out).toContain(`epoch: ${epoch}`);
    expect(ok.out).toContain(`events read: ${COUNT} (positions 1 to ${COUNT})`);
    expect(ok.out).toMatch(/result: INTACT/);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { intact: boolean; eventsRead: number; damage: unknown };
    expect(report.intact).toBe(false);
    expect(report.damage).toEqual({ lastGoodPosition: report.eventsRead, error: expect.any(String) });
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('usage: npm run store:verify');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such file');

    // The file from DATA_DIR, as the service finds it.
    const env = { DATA_DIR: join(damaged, '..') };
    const repaired = await run('store-repair', [], env);
    expect(repaired.code, repaired.err).toBe(0);
    expect(repaired.out).toContain('the service must be stopped');
    expect(repaired.out).toContain(`kept ${report.eventsRead} events (positions 1 to ${report.eventsRead})`);
    expect(repaired.out).toContain(`last position kept: ${report.eventsRead}`);
    expect(repaired.out).toContain("'npm run projection:rebuild -- NAME'");
    expect(repaired.out).toMatch(
      /damaged file set aside as .*events\.db\.damaged-\d{4}-\d\d-\d\dT\d{6}\.\d{3}Z/,
    );
    const after = await run('store-verify', [], env);
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/result: INTACT/);
  });
});
