import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { createActorHost } from '../../../src/actors/host.js';
import { createCollectionAgent } from '../../../src/collection/agent.js';
import {
  type EventStore,
  EventStoreUnavailableError,
  type RecordedEvent,
} from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('a spool left by an earlier process', () => {
  it('is replayed even when the first replay attempt at start fails', async () => {
    const dir = tempDir();
    const real = createSqliteEventStore({ path: join(dir, 'events.db') });
    const host = createActorHost({ store: real, kinds: [agentKind()], logger: silentLogger });
    let failAppends = 0;
    let down = false;
    const unavailable = () => new EventStoreUnavailableError('unreachable (test)');
    const store: EventStore = {
      ...real,
      async append(...args) {
        if (down || failAppends > 0) {
          if (failAppends > 0) failAppends--;
          throw unavailable();
        }
        return real.append(...args);
      },
    };
    const options = {
      id: 'a',
      events: store,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
      batchMaxDelayMs: 10,
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    };
    // First process: the store is down, ten samples are acknowledged through the spool.
    const first = createCollectionAgent(options);
    await first.start();
    const t0 = Date.now() - 1000;
    const s = first.series({ name: 'load', kind: 'gauge' });
    down = true;
    for (let i = 0; i < 10; i++) first.record(s, i, t0 + i);
    await first.flush(); // durable: fsynced to the spool
    expect(first.health().spooledBatches).toBeGreaterThan(0);
    await first.stop();

    // Second process: the store is back, but its first two appends fail (a lock, a blip).
    down = false;
    failAppends = 2;
    const second = createCollectionAgent(options);
    await second.start();
    await new Promise((r) => setTimeout(r, 100));
    const s2 = second.series({ name: 'load', kind: 'gauge' });
    second.record(s2, 100, Date.now());
    await second.flush();
    await new Promise((r) => setTimeout(r, 1500));
    const health = second.health();
    const inLog = (await streamOf(real, 'samples-a')).length;
    await second.stop();
    await host.stop();
    await real.close();
    // The samples acknowledged by the first process are in the log, and the spool is empty.
    expect({ spooledBatches: health.spooledBatches, inLog }).toEqual({ spooledBatches: 0, inLog: 2 });
  });
});
