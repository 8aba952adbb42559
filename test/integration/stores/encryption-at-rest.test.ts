import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeriesRegistry } from '../../../src/collection/series-registry.js';
import { Spool, type SpooledBatch } from '../../../src/collection/spool.js';
import { createBlobStore } from '../../../src/learning-pipelines/blobs.js';
import { encryptDataDir } from '../../../src/maintenance/encrypt-data-dir.js';
import { EncryptionKeyError, parseDataKey } from '../../../src/stores/encryption.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { verifyStoreFile } from '../../../src/stores/event-store/sqlite-verify.js';
import { tempDir } from '../../support/fixtures.js';

const PLANTED = 'planted-7f3a9c-secret';
const keys = parseDataKey('c3'.repeat(32));
const otherKeys = parseDataKey('d4'.repeat(32));

const holds = (path: string) => readFileSync(path).includes(Buffer.from(PLANTED));
const allFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

const batch = (seq: number): SpooledBatch => ({
  seq,
  eventId: `e-${seq}`,
  data: { labels: { customer: PLANTED }, value: seq },
  spooledAt: 1000 + seq,
});

describe('encrypted spool', () => {
  it('seals every record; reads them back; a tampered record is damage, quarantined', async () => {
    const dir = tempDir('spool-enc-');
    const key = keys.subkey('spool');
    const spool = new Spool(dir, 'agent', () => 5, key);
    await spool.open();
    await spool.appendAll([batch(1), batch(2), batch(3)]);
    await spool.close();
    const file = join(dir, 'agent.spool');
    expect(holds(file)).toBe(false);

    const again = new Spool(dir, 'agent', () => 6, key);
    expect((await again.open()).batches).toBe(3);
    const seqs: number[] = [];
    for await (const r of again.records()) seqs.push(r.seq);
    expect(seqs).toEqual([1, 2, 3]);
    await again.close();

    // Flip one byte of the second record's ciphertext, keeping its CRC right: only the seal tells.
    const bytes = readFileSync(file);
    const second = bytes.indexOf(Buffer.from([0xf5, 0xa7, 0x5f, 0x02]), 1);
    const length = bytes.readUInt32LE(second + 4);
    bytes[second + 12 + 20]! ^= 0xff;
    const { crc32 } = await import('node:zlib');
    bytes.writeUInt32LE(crc32(bytes.subarray(second + 12, second + 12 + length)), second + 8);
    writeFileSync(file, bytes);
    const damaged = new Spool(dir, 'agent', () => 7, key);
    const report = await damaged.open();
    expect(report).toMatchObject({ batches: 2, damagedRecords: 1 });
    expect(report.quarantinedTo).not.toBeNull();
    await damaged.close();
  });

  it('a wrong key, a missing key or a plain spool with a key is a clear error; nothing is cut', async () => {
    const dir = tempDir('spool-enc-');
    const sealed = new Spool(dir, 'a', Date.now, keys.subkey('spool'));
    await sealed.appendAll([batch(1), batch(2)]);
    await sealed.close();
    const before = readFileSync(join(dir, 'a.spool'));
    await expect(new Spool(dir, 'a', Date.now, otherKeys.subkey('spool')).open()).rejects.toThrow(
      /DATA_ENCRYPTION_KEY does not open the spool .*a\.spool/,
    );
    await expect(new Spool(dir, 'a').open()).rejects.toThrow(/encrypted but DATA_ENCRYPTION_KEY is not set/);
    expect(readFileSync(join(dir, 'a.spool'))).toEqual(before);
    expect(readdirSync(dir)).toEqual(['a.spool']);

    const plain = new Spool(dir, 'b');
    await plain.appendAll([batch(1)]);
    await plain.close();
    await expect(new Spool(dir, 'b', Date.now, keys.subkey('spool')).open()).rejects.toThrow(
      EncryptionKeyError,
    );
  });
});

describe('encrypted series registry and learning outputs', () => {
  it('seals each registry line and each output file', () => {
    const dir = tempDir('reg-enc-');
    const path = join(dir, 'series.registry');
    const limits = { maxSeries: 100, maxSeriesPerMetric: 100, idleMs: 1e9 };
    const registry = new SeriesRegistry(limits, path, Date.now, keys.subkey('series-registry'));
    registry.open();
    expect(registry.admit(PLANTED, '1')).toEqual({ ok: true });
    registry.touch(PLANTED, '2');
    expect(holds(path)).toBe(false);
    const reopened = new SeriesRegistry(limits, path, Date.now, keys.subkey('series-registry'));
    reopened.open();
    expect(reopened.seriesOf(PLANTED)).toBe(2);
    expect(() =>
      new SeriesRegistry(limits, path, Date.now, otherKeys.subkey('series-registry')).open(),
    ).toThrow(/does not open the series registry/);
    expect(() => new SeriesRegistry(limits, path).open()).toThrow(
      /encrypted but DATA_ENCRYPTION_KEY is not set/,
    );

    const blobs = createBlobStore(join(dir, 'learning'), keys.subkey('learning-blobs'));
    const ref = blobs.save({ rows: [{ customer: PLANTED }] });
    expect(holds(join(dir, 'learning', `${ref.sha256}.json`))).toBe(false);
    expect(blobs.load(ref)).toEqual({ rows: [{ customer: PLANTED }] });
    expect(() => createBlobStore(join(dir, 'learning')).load(ref)).toThrow(EncryptionKeyError);
  });
});

describe('encrypted event log', () => {
  it('keeps the file and its WAL encrypted; a wrong or missing key is a clear error; verify reads it with the key', async () => {
    const dir = tempDir('log-enc-');
    const path = join(dir, 'events.db');
    const key = keys.subkey('event-log');
    const store = createSqliteEventStore({ path, key });
    await store.append('samples-a', [{ id: 'e1', type: 'batchFlushed', data: { customer: PLANTED } }]);
    // While open, the event is in the WAL.
    expect(existsSync(`${path}-wal`)).toBe(true);
    for (const file of allFiles(dir)) expect(holds(file), file).toBe(false);
    await store.close();
    for (const file of allFiles(dir)) expect(holds(file), file).toBe(false);

    expect(() => createSqliteEventStore({ path, key: otherKeys.subkey('event-log') })).toThrow(
      new RegExp(`DATA_ENCRYPTION_KEY does not open the event store file ${path}`),
    );
    expect(() => createSqliteEventStore({ path })).toThrow(
      /written with DATA_ENCRYPTION_KEY, start with that key/,
    );
    const report = verifyStoreFile(path, key);
    expect(report).toMatchObject({ intact: true, eventsRead: 1 });
    const reopened = createSqliteEventStore({ path, key });
    const events = [];
    for await (const e of reopened.readAll()) events.push(e);
    expect(events.map((e) => e.data)).toEqual([{ customer: PLANTED }]);
    await reopened.close();
  });

  it('store:encrypt encrypts a plain data directory; the key then opens it, and nothing in it is plain', async () => {
    const dir = tempDir('dir-enc-');
    const store = createSqliteEventStore({ path: join(dir, 'events.db') });
    await store.append('samples-a', [{ id: 'e1', type: 'batchFlushed', data: { customer: PLANTED } }]);
    await store.close();
    const spool = new Spool(join(dir, 'spool'), 'agent');
    await spool.appendAll([batch(1), batch(2)]);
    await spool.close();
    const registry = new SeriesRegistry(
      { maxSeries: 9, maxSeriesPerMetric: 9, idleMs: 1e9 },
      join(dir, 'series.registry'),
    );
    registry.open();
    registry.admit(PLANTED, '7');
    const ref = createBlobStore(join(dir, 'learning')).save({ customer: PLANTED });
    // A damaged spool copy kept for inspection, and an insert file a crash left behind.
    writeFileSync(join(dir, 'spool', 'agent.spool.damaged-1700000000000'), `record of ${PLANTED}`);
    mkdirSync(join(dir, 'clickhouse-inserts'), { recursive: true });
    writeFileSync(join(dir, 'clickhouse-inserts', 'insert-x.native'), `row of ${PLANTED}`);
    expect(() =>
      createSqliteEventStore({ path: join(dir, 'events.db'), key: keys.subkey('event-log') }),
    ).toThrow(/was written without DATA_ENCRYPTION_KEY .*npm run store:encrypt/);

    const result = await encryptDataDir(dir, keys);
    expect(result.declined).toBe(false);
    for (const file of allFiles(dir)) expect(holds(file), file).toBe(false);

    const reopened = createSqliteEventStore({ path: join(dir, 'events.db'), key: keys.subkey('event-log') });
    expect(await reopened.headPosition()).toBe(1n);
    await reopened.close();
    const spooled = new Spool(join(dir, 'spool'), 'agent', Date.now, keys.subkey('spool'));
    expect((await spooled.open()).batches).toBe(2);
    await spooled.close();
    const keyedRegistry = new SeriesRegistry(
      { maxSeries: 9, maxSeriesPerMetric: 9, idleMs: 1e9 },
      join(dir, 'series.registry'),
      Date.now,
      keys.subkey('series-registry'),
    );
    keyedRegistry.open();
    expect(keyedRegistry.seriesOf(PLANTED)).toBe(1);
    expect(createBlobStore(join(dir, 'learning'), keys.subkey('learning-blobs')).load(ref)).toEqual({
      customer: PLANTED,
    });
    // Running it again changes nothing.
    expect((await encryptDataDir(dir, keys)).lines.join('\n')).toMatch(/already encrypted with this key/);
  });
});
