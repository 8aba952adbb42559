import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { runToExit, startTsChild } from '../../support/child-process.js';
import { tempDir } from '../../support/fixtures.js';
import { seeded } from '../../support/seeded.js';

const CHILD = 'test/support/projection-child.ts';

async function complete(dbPath: string, chDir: string): Promise<Record<string, string>> {
  const run = await runToExit(startTsChild(CHILD, [dbPath, chDir, 'complete']));
  expect(run.code, run.err).toBe(0);
  return JSON.parse(run.out.trim().split('\n').at(-1)!);
}

describe('projection runner killed at random points', () => {
  it('converges to exactly the rows of an uninterrupted run: none lost, none doubled', async () => {
    const dir = tempDir();
    const dbPath = join(dir, 'events.db');
    const store = createSqliteEventStore({ path: dbPath });
    const total = 6000;
    let positionSum = 0n;
    for (let i = 0; i < total / 20; i++) {
      const stream = `model-${i % 37}`;
      const result = await store.append(
        stream,
        Array.from({ length: 20 }, (_, j) => ({
          id: randomUUID(),
          type: j % 3 === 0 ? 'trainingRequested' : 'modelDeployed',
          data: { i, j },
          metadata: {
            principal: `user:${i % 5}`,
            correlationId: `c-${i}`,
            state: j % 2 ? 'deployed' : 'training',
          },
        })),
      );
      const last = result.position;
      for (let k = 0n; k < 20n; k++) positionSum += last - k;
    }
    await store.close();

    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const stages = ['afterInsert', 'beforeInsert', 'duringInsert', 'afterCheckpoint', 'afterInsert'];
    const crashDir = join(dir, 'crashed');
    for (const stage of stages) {
      // Batches of 500 events: 12 in all; each run resumes where the last one's checkpoint left it.
      const batch = 1 + Math.floor(random() * 2);
      const run = await runToExit(startTsChild(CHILD, [dbPath, crashDir, stage, String(batch)]));
      expect(run.signal, `seed ${seed}, ${stage} of batch ${batch}: ${run.out}${run.err}`).toBe('SIGKILL');
    }
    const crashed = await complete(dbPath, crashDir);
    const clean = await complete(dbPath, join(dir, 'clean'));

    expect(crashed.rows).toBe(String(total));
    expect(crashed.positions).toBe(String(total));
    expect(crashed.positionSum).toBe(positionSum.toString());
    expect(crashed.checksum).toBe(clean.checksum);
    expect({ ...crashed, status: undefined }).toEqual({ ...clean, status: undefined });
  });
});
