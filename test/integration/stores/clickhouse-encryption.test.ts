import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { bytesOf, encodeNativeChunks } from '../../../src/stores/clickhouse/native-format.js';
import { EncryptionKeyError, parseDataKey } from '../../../src/stores/encryption.js';
import { tempDir } from '../../support/fixtures.js';

const PLANTED = 'planted-7f3a9c-secret';
const key = parseDataKey('e5'.repeat(32)).subkey('clickhouse-disk');
const otherKey = parseDataKey('f6'.repeat(32)).subkey('clickhouse-disk');

const filesHolding = (dir: string, needle: Buffer) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && readFileSync(join(e.parentPath, e.name)).includes(needle))
    .map((e) => join(e.parentPath, e.name));

describe('embedded ClickHouse with DATA_ENCRYPTION_KEY', () => {
  it('keeps table data on an encrypted disk, inserts through a pipe, and refuses a wrong or missing key', async () => {
    const root = tempDir('ch-enc-');
    const dataDir = join(root, 'clickhouse');
    const store = await openAnalyticsStore({ database: 'enc', dataDir, encryptionKey: key });
    await store.client.command({
      query: 'CREATE TABLE enc.t (label String, value Float64) ENGINE = MergeTree ORDER BY label',
    });
    await store.client.insert({
      table: 'enc.t',
      values: [{ label: PLANTED, value: 1 }],
      format: 'JSONEachRow',
    });
    // A Native insert: through a named pipe, never a file.
    await store.client.command({
      query: 'CREATE TABLE enc.n (value Float64) ENGINE = MergeTree ORDER BY value',
    });
    const values = new Float64Array([1.5, 2.5, 4_242_424.25]);
    await store.insertNative(
      'n',
      ['value'],
      encodeNativeChunks(3, [{ name: 'value', type: 'Float64', data: bytesOf(values) }]),
    );
    // One that fails before it reads its pipe does not hang.
    await expect(
      store.insertNative(
        'missing',
        ['value'],
        encodeNativeChunks(3, [{ name: 'value', type: 'Float64', data: bytesOf(values) }]),
      ),
    ).rejects.toThrow();
    await store.client.command({ query: 'OPTIMIZE TABLE enc.t FINAL' });
    expect(await queryRows(store, 'SELECT label FROM enc.t')).toEqual([{ label: PLANTED }]);
    expect(await queryRows(store, 'SELECT sum(value) AS s FROM enc.n')).toEqual([{ s: 4_242_428.25 }]);
    const disks = await queryRows<{ disk_name: string }>(
      store,
      "SELECT DISTINCT disk_name FROM system.parts WHERE database = 'enc' AND active",
    );
    expect(disks).toEqual([{ disk_name: 'all_use_encrypted' }]);
    await store.close();

    expect(filesHolding(root, Buffer.from(PLANTED))).toEqual([]);
    expect(filesHolding(root, Buffer.from(bytesOf(new Float64Array([4_242_424.25]))))).toEqual([]);

    await expect(openAnalyticsStore({ database: 'enc', dataDir })).rejects.toThrow(
      /is encrypted but DATA_ENCRYPTION_KEY is not set/,
    );
    await expect(openAnalyticsStore({ database: 'enc', dataDir, encryptionKey: otherKey })).rejects.toThrow(
      EncryptionKeyError,
    );
    const again = await openAnalyticsStore({ database: 'enc', dataDir, encryptionKey: key });
    expect(await queryRows(again, 'SELECT label FROM enc.t')).toEqual([{ label: PLANTED }]);
    await again.close();
  }, 60_000);
});
