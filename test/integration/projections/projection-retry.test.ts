import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import { createProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

/** The same store, but its inserts fail while `down` says so. */
function flaky(store: AnalyticsStore, down: () => boolean): AnalyticsStore {
  const client = new Proxy(store.client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'insert' && typeof value === 'function') {
        return (...args: unknown[]) =>
          down() ? Promise.reject(new Error('ClickHouse is down')) : value.apply(target, args);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...store, client };
}

describe('projection runner while ClickHouse is down', () => {
  it('reports the failure, keeps every event, and catches up exactly once when ClickHouse returns', async () => {
    const dir = tempDir();
    const events = createSqliteEventStore({ path: join(dir, 'events.db') });
    const real = await openAnalyticsStore({ database: 'retry_test', dataDir: join(dir, 'clickhouse') });
    await migrate(real, silentLogger);
    let down = false;
    const runner = createProjectionRunner({
      projection: auditIndexProjection,
      events,
      analytics: flaky(real, () => down),
      logger: silentLogger,
      batchSize: 50,
    });
    const append = (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          events.append(`agent-${i % 7}`, [{ id: randomUUID(), type: 'batchFlushed', data: { i } }]),
        ),
      );
    await append(120);
    await runner.start();
    await runner.waitFor();

    down = true;
    await append(200);
    await new Promise((r) => setTimeout(r, 400));
    const during = await runner.status();
    expect(during.state).toBe('retrying');
    expect(during.lastError).toBe('ClickHouse is down');
    expect(during.checkpoint).not.toBe(during.headPosition);

    down = false;
    await runner.waitFor();
    const after = await runner.status();
    expect(after).toMatchObject({ lastError: null, state: 'live' });
    const [row] = await queryRows<{ n: string; u: string }>(
      real,
      'SELECT count() AS n, uniqExact(position) AS u FROM retry_test.audit_index',
    );
    expect(row).toEqual({ n: '320', u: '320' });
    await runner.stop();
    await real.close();
    await events.close();
  });
});
