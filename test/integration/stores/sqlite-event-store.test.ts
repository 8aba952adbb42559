import { randomUUID } from 'node:crypto';
import { mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import {
  EventStoreDamagedError,
  EventStoreUnavailableError,
  type RecordedEvent,
  WrongExpectedVersionError,
} from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { killed, startTsChild, waitForLine } from '../../support/child-process.js';
import { describeEventStoreContract } from './event-store.contract.js';

describeEventStoreContract('embedded SQLite', async () =>
  createSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db'), pageSize: 100 }),
);

describe('embedded SQLite store', () => {
  it('refuses an event id reused for different content instead of answering it as a retry', async () => {
    const store = createSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db') });
    const event = { id: randomUUID(), type: 'a', data: { n: 1 } };
    await store.append('s-1', [event], { expectedRevision: 'noStream' });
    expect((await store.append('s-1', [event], { expectedRevision: 'noStream' })).nextExpectedRevision).toBe(
      0n,
    );
    await expect(
      store.append('s-1', [{ ...event, data: { n: 2 } }], { expectedRevision: 0n }),
    ).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(
      store.append('s-1', [{ ...event, type: 'b' }], { expectedRevision: 0n }),
    ).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await store.close();
  });

  it('waits for a write lock another process holds without blocking the event loop, then appends; past the wait it fails as unavailable', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db');
    const store = createSqliteEventStore({ path, lockWaitMs: 1500 });
    await store.append('s-1', [{ id: randomUUID(), type: 'a', data: {} }]);
    const holder = startTsChild('test/support/hold-write-lock.ts', [path]);
    try {
      await waitForLine(holder, /locked/);
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const began = Date.now();
      const append = store.append('s-1', [{ id: randomUUID(), type: 'b', data: {} }]);
      // The event loop keeps turning while the append waits.
      let ticks = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (++ticks === 20) {
            clearInterval(timer);
            resolve();
          }
        }, 10);
      });
      await expect(append).rejects.toBeInstanceOf(EventStoreUnavailableError);
      delay.disable();
      expect(Date.now() - began).toBeGreaterThanOrEqual(1400);
      expect(delay.max / 1e6).toBeLessThan(60);
      expect(ticks).toBe(20);
      // Released while an append waits: it goes through.
      const waiting = store.append('s-1', [{ id: randomUUID(), type: 'c', data: {} }]);
      await new Promise((r) => setTimeout(r, 200));
      await killed(holder);
      expect((await waiting).nextExpectedRevision).toBe(1n);
    } finally {
      await killed(holder);
      await store.close();
    }
  });

  it('names the damaged file and the remedy when events.db is truncated', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db');
    const store = createSqliteEventStore({ path });
    for (let i = 0; i < 200; i++)
      await store.append(`s-${i % 7}`, [{ id: randomUUID(), type: 'a', data: { pad: 'x'.repeat(2000), i } }]);
    await store.close();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    let error: unknown;
    try {
      createSqliteEventStore({ path });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(EventStoreDamagedError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('npm run store:repair');
  });

  it('parses a payload only when it is read, and names a payload that is not JSON as damage then', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db');
    const store = createSqliteEventStore({ path });
    await store.append('s-1', [
      { id: randomUUID(), type: 'a', data: { n: 1 } },
      { id: randomUUID(), type: 'a', data: { n: 2 } },
    ]);
    const other = new Database(path);
    other.prepare("UPDATE events SET data = '{not json' WHERE revision = 1").run();
    other.close();
    const read: RecordedEvent[] = [];
    for await (const event of store.readStream('s-1')) read.push(event);
    // The envelope of the damaged event reads; its payload is named as damage where it is read.
    expect(read.map((e) => e.type)).toEqual(['a', 'a']);
    expect(read[0]!.data).toEqual({ n: 1 });
    expect(read[0]!.data).toBe(read[0]!.data); // parsed once
    expect(() => read[1]!.data).toThrow(EventStoreDamagedError);
    expect(() => read[1]!.data).toThrow(/position 2 does not read as JSON/);
    // Each read gives its own objects.
    const again = await store.readAt(read[0]!.position);
    expect(again!.data).toEqual(read[0]!.data);
    expect(again!.data).not.toBe(read[0]!.data);
    await store.close();
  });
});
