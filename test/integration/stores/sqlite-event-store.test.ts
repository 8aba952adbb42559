import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { describeEventStoreContract } from './event-store.contract.js';

describeEventStoreContract('embedded SQLite', async () =>
  createSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'es-')), 'events.db'), pageSize: 100 }),
);
