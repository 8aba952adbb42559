import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WrongExpectedVersionError } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
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
});
