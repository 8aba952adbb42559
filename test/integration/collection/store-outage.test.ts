import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { createActorHost } from '../../../src/actors/host.js';
import { createCollectionAgent } from '../../../src/collection/agent.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import { createProjectionRunner } from '../../../src/projections/runner.js';
import { openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';
import { switchable } from '../../support/switchable-store.js';

describe('event store outage under a recording agent', () => {
  it('keeps recording while the store is down and lands every sample exactly once in ClickHouse', async () => {
    const dir = tempDir();
    const real = createSqliteEventStore({ path: join(dir, 'events.db') });
    const store = switchable(real);
    const analytics = await openAnalyticsStore({ database: 'outage', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    const host = createActorHost({ store, kinds: [agentKind()], logger: silentLogger });
    const agent = createCollectionAgent({
      id: 'busy',
      events: store,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
      batchMaxSamples: 500,
      batchMaxDelayMs: 10,
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 50 },
    });
    const runner = createProjectionRunner({
      projection: metricSeriesProjection(),
      events: real,
      analytics,
      logger: silentLogger,
    });
    await agent.start();
    await runner.start();
    const series = Array.from({ length: 10 }, (_, i) =>
      agent.series({ name: 'load', labels: { node: `n${i}` }, kind: 'gauge' }),
    );
    const t0 = Date.now() - 60_000;
    let recorded = 0;
    let sum = 0;
    const record = async (rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        for (const s of series) {
          const value = Math.round(Math.random() * 10_000) / 100;
          expect(agent.record(s, value, t0 + recorded)).toBe(true);
          recorded++;
          sum += value;
        }
        if (r % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    await record(300);
    store.down = true;
    await record(500);
    await agent.flush();
    expect(agent.health().delivery).toBe('degraded');
    await record(200);
    store.down = false;
    await record(100);
    const deadline = Date.now() + 20_000;
    while (agent.health().delivery !== 'healthy' || agent.health().bufferDepth > 0) {
      if (Date.now() > deadline) throw new Error(`agent did not recover: ${JSON.stringify(agent.health())}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await agent.flush();
    await runner.waitFor();
    const [row] = await queryRows<{ n: string; unique: string; total: number }>(
      analytics,
      'SELECT count() AS n, uniqExact(series_id, ts) AS unique, sum(value) AS total FROM outage.samples',
    );
    expect(row!.n).toBe(String(recorded));
    expect(row!.unique).toBe(String(recorded));
    expect(row!.total).toBeCloseTo(sum, 6);
    expect(agent.health().spooledTotal).toBeGreaterThan(0);
    await agent.stop();
    await runner.stop();
    await host.stop();
    await analytics.close();
    await real.close();
  });
});
