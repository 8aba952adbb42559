import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

interface Faults {
  /** Inserts fail before reaching ClickHouse. */
  down: boolean;
  /** The next N inserts reach ClickHouse, but their reply is lost. */
  lostReplies: number;
  /** The next N DELETE commands fail. */
  failedDeletes: number;
}

/** The same store, with faults injected into its client. */
function faulty(store: AnalyticsStore, faults: Faults): AnalyticsStore {
  const client = new Proxy(store.client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'insert') {
        return async (...args: unknown[]) => {
          if (faults.down) throw new Error('ClickHouse is down');
          const result = await value.apply(target, args);
          if (faults.lostReplies > 0) {
            faults.lostReplies--;
            throw new Error('connection reset after the insert');
          }
          return result;
        };
      }
      if (property === 'command') {
        return async (params: { query: string }) => {
          if (params.query.startsWith('DELETE') && faults.failedDeletes > 0) {
            faults.failedDeletes--;
            throw new Error('DELETE failed');
          }
          return value.call(target, params);
        };
      }
      return value.bind(target);
    },
  });
  return { ...store, client };
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('projection runner under ClickHouse faults', () => {
  let events: EventStore;
  let real: AnalyticsStore;
  let runner: ProjectionRunner;
  const faults: Faults = { down: false, lostReplies: 0, failedDeletes: 0 };
  let n = 0;
  const append = (count: number) =>
    Promise.all(
      Array.from({ length: count }, () =>
        events.append(`agent-${n++ % 7}`, [{ id: randomUUID(), type: 'batchFlushed', data: { n } }]),
      ),
    );
  const counts = async () =>
    (
      await queryRows<{ n: string; u: string }>(
        real,
        'SELECT count() AS n, uniqExact(position) AS u FROM retry_test.audit_index',
      )
    )[0];

  beforeEach(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    real = await openAnalyticsStore({ database: 'retry_test', dataDir: join(dir, 'clickhouse') });
    await real.client.command({ query: 'DROP DATABASE IF EXISTS retry_test' });
    await real.client.command({ query: 'CREATE DATABASE retry_test' });
    await migrate(real, silentLogger);
    Object.assign(faults, { down: false, lostReplies: 0, failedDeletes: 0 });
    runner = createProjectionRunner({
      projection: auditIndexProjection,
      events,
      analytics: faulty(real, faults),
      logger: silentLogger,
      batchSize: 50,
    });
  });
  afterEach(async () => {
    await runner.stop();
    await real.close();
    await events.close();
  });

  it('reports the failure while down, keeps every event, and catches up exactly once when ClickHouse returns', async () => {
    await append(120);
    await runner.start();
    await runner.waitFor();
    faults.down = true;
    await append(200);
    await until(async () => (await runner.status()).state === 'retrying');
    const during = await runner.status();
    expect(during.lastError).toBe('ClickHouse is down');
    expect(during.checkpoint).not.toBe(during.headPosition);
    faults.down = false;
    await runner.waitFor();
    expect(await runner.status()).toMatchObject({ lastError: null, state: 'live' });
    expect(await counts()).toEqual({ n: '320', u: '320' });
  });

  it('writes no row twice when inserts land but their replies are lost and a cleanup fails', async () => {
    await append(60);
    // The rows insert lands but its reply is lost; the cleanup DELETE then fails once.
    faults.lostReplies = 1;
    faults.failedDeletes = 1;
    await runner.start();
    await runner.waitFor();
    await append(90);
    await runner.waitFor();
    expect(await counts()).toEqual({ n: '150', u: '150' });
  });

  it('writes a steady trickle of events promptly, without waiting for a full batch', async () => {
    await runner.start();
    for (let i = 0; i < 30; i++) {
      await append(1);
      await new Promise((r) => setTimeout(r, 15));
    }
    // Each partial batch waits at most 50 ms from its first event: most of the trickle is already written.
    expect((await runner.status()).eventsProjected).toBeGreaterThanOrEqual(15);
    await runner.waitFor();
    expect(await counts()).toEqual({ n: '30', u: '30' });
  });
});
