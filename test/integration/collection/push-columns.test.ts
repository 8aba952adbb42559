import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import {
  type CollectionAgent,
  createCollectionAgent,
  type PushColumns,
} from '../../../src/collection/agent.js';
import { decodeBatch } from '../../../src/domain/metrics/batch.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

/** A request of `n` samples over 10 series, as columns (the same series inputs every time). */
const series = Array.from({ length: 10 }, (_, s) => ({
  name: 'pushed_gauge',
  labels: { shard: String(s) },
  kind: 'gauge' as const,
}));
function columns(n: number, t0: number, value = (i: number) => i): PushColumns {
  return {
    count: n,
    series,
    seriesIndex: Uint32Array.from({ length: n }, (_, i) => i % 10),
    timestamps: Float64Array.from({ length: n }, (_, i) => t0 + i),
    values: Float64Array.from({ length: n }, (_, i) => value(i)),
  };
}

describe('push requests in columns', () => {
  let events: EventStore;
  let host: ActorHost;
  let agent: CollectionAgent;
  let appends: number;

  beforeEach(async () => {
    const dir = tempDir();
    const real = createSqliteEventStore({ path: join(dir, 'events.db') });
    appends = 0;
    events = {
      ...real,
      append: (...args: Parameters<EventStore['append']>) => {
        if (args[0] === 'samples-p1') appends++;
        return real.append(...args);
      },
    } as EventStore;
    host = createActorHost({ store: real, kinds: [agentKind()], logger: silentLogger });
    agent = createCollectionAgent({
      id: 'p1',
      events,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
    });
    await agent.start();
  });
  afterEach(async () => {
    await agent.stop();
    await host.stop();
  });

  it('appends concurrent requests together, one event each, each answered once its append is durable', async () => {
    const t0 = Date.now() - 60_000;
    const answered: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, r) =>
        agent
          .push({
            prepare: () => ({ columns: columns(1000, t0 + r * 1000), respond: (result) => result.accepted }),
          })
          .then(async (outcome) => {
            // Acknowledged means in the log already.
            let logged = 0;
            for await (const event of events.readStream('samples-p1'))
              logged += decodeBatch(event.data).values.length;
            expect(logged).toBeGreaterThanOrEqual(1000);
            answered.push(outcome.response as number);
          }),
      ),
    );
    expect(answered).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
    const stored: number[] = [];
    for await (const event of events.readStream('samples-p1'))
      stored.push(decodeBatch(event.data).values.length);
    expect(stored).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
    // Six requests, fewer appends: those taken while an append was due shared it.
    expect(appends).toBeLessThan(6);
    expect(agent.health()).toMatchObject({ batchesFlushed: 6, appends });
  });

  it('refuses samples as the object path does: each refusal with its row, field and reason', async () => {
    const t0 = Date.now() - 60_000;
    const bad = columns(20, t0, (i) => (i === 3 ? Number.NaN : i));
    bad.timestamps[5] = Date.now() + 3_600_000;
    const inputs = [...series, { name: '9 lives', labels: {}, kind: 'gauge' as const }];
    const seriesIndex = Uint32Array.from(bad.seriesIndex);
    seriesIndex[7] = 10;
    let result: unknown;
    await agent.push({
      prepare: () => ({
        columns: { ...bad, series: inputs, seriesIndex },
        respond: (r) => {
          result = r;
          return r.accepted;
        },
      }),
    });
    const { accepted, rejected } = result as {
      accepted: number;
      rejected: { index: number; path: string }[];
    };
    expect(accepted).toBe(17);
    expect(rejected.map((r) => [r.index, r.path])).toEqual([
      [3, 'value'],
      [5, 'timestamp'],
      [7, 'name'],
    ]);
  });
});
