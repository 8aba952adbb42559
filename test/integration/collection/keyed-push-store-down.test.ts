import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { createActorHost } from '../../../src/actors/host.js';
import { createCollectionAgent, type PushRequest } from '../../../src/collection/agent.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';
import { switchable } from '../../support/switchable-store.js';

const request = (key?: string): PushRequest => ({
  ...(key === undefined ? {} : { key }),
  prepare: () => ({
    samples: [{ name: 'cpu', kind: 'gauge', value: 1, timestamp: Date.now() }],
    respond: (r) => ({ accepted: r.accepted }),
  }),
});

describe('push requests while the event store is unreachable', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('a request with an idempotency key is made durable in the spool like one without', async () => {
    const dir = tempDir();
    const real = createSqliteEventStore({ path: join(dir, 'events.db') });
    const store = switchable(real);
    const host = createActorHost({ store, kinds: [agentKind()], logger: silentLogger });
    const agent = createCollectionAgent({
      id: 'otlp',
      events: store,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    });
    cleanup.push(
      () => real.close(),
      () => host.stop(),
      async () => {
        store.down = false;
        await agent.stop();
      },
    );
    await agent.start();
    store.down = true;
    // Without a key: spooled and answered.
    await expect(agent.push(request())).resolves.toMatchObject({ duplicate: false });
    // With a key: should be the same (the spec: while the log is down, fsynced to the spool).
    const keyed = await agent.push(request('k-1')).then(
      (o) => ({ ok: true, duplicate: o.duplicate }),
      (e: Error) => ({ ok: false, error: `${e.name}: ${e.message}` }),
    );
    expect(keyed).toEqual({ ok: true, duplicate: false });
  });
});
