import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../../src/collection/spool.js';
import { tempDir } from '../../support/fixtures.js';

async function spoolOfThree(dir: string): Promise<string> {
  const spool = new Spool(dir, 'a1');
  await spool.open();
  for (let seq = 0; seq < 3; seq++)
    await spool.appendAll([
      {
        seq,
        eventId: `00000000-0000-4000-8000-00000000000${seq}`,
        data: { seq },
        spooledAt: 1,
      },
    ]);
  await spool.close();
  return join(dir, 'a1.spool');
}

describe('a spool whose first record is damaged', () => {
  it.each([
    ['its marker (byte 0)', 0],
    ['its length field (byte 5)', 5],
  ])(
    'damage in %s: the intact records after it are kept and replayed, the damaged file kept',
    async (_, at) => {
      const dir = tempDir();
      const path = await spoolOfThree(dir);
      const bytes = readFileSync(path);
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(path, bytes);

      const spool = new Spool(dir, 'a1');
      const report = await spool.open();
      const kept = readdirSync(dir).filter((f) => f.startsWith('a1.spool.damaged-'));
      const left = existsSync(path) ? statSync(path).size : 0;
      // Acknowledged (fsynced) batches 1 and 2 are intact: they must not vanish with a warning about
      // "a torn last record ... never acknowledged".
      expect({
        batches: report.batches,
        damaged: report.damagedRecords,
        kept: kept.length,
        fileEmpty: left === 0,
      }).toEqual({
        batches: 2,
        damaged: 1,
        kept: 1,
        fileEmpty: false,
      });
    },
  );
});
