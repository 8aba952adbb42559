import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogHub, type LogHub } from '../../../src/runtime/log-hub.js';
import { tailLog } from '../../../src/schema/log-tail.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const finding = (n: number) => ({ id: crypto.randomUUID(), type: 'anomalyDetected', data: { n } });

describe('the log tail behind subscriptions', () => {
  let events: EventStore;
  let open = 0;
  /** The store, counting the log subscriptions left open. */
  let counted: EventStore;
  /** The shared tail over the counted store. */
  let hub: LogHub;
  beforeEach(() => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    open = 0;
    counted = {
      ...events,
      subscribeToAll: (options) => {
        const subscription = events.subscribeToAll(options);
        open++;
        return {
          [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
          close: async () => {
            open--;
            await subscription.close();
          },
        };
      },
    };
    hub = createLogHub({ events: counted, logger: silentLogger });
  });
  afterEach(async () => {
    await hub.close();
    await events.close();
  });

  it('releases its log subscription as soon as the client leaves, even while nothing matches', async () => {
    const tail = tailLog<number>(hub, {
      filter: { categories: ['findings'] },
      map: (e) => ((e.data as { n: number }).n > 100 ? [(e.data as { n: number }).n] : []),
    });
    const pending = tail.next();
    await events.append('findings-x', [finding(1), finding(2)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(open).toBe(1);
    await tail.return!();
    expect(open).toBe(0);
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('delivers from the head when subscribed, or from a position to resume, in order', async () => {
    await events.append('findings-x', [finding(1)]);
    const live = tailLog<number>(hub, {
      filter: { categories: ['findings'] },
      map: (e) => [(e.data as { n: number }).n],
    });
    const first = live.next();
    await new Promise((r) => setTimeout(r, 20));
    const appended = await events.append('findings-x', [finding(2), finding(3)]);
    expect(await first).toEqual({ value: 2, done: false });
    expect(await live.next()).toEqual({ value: 3, done: false });
    await live.return!();
    const resumed = tailLog<number>(hub, {
      after: appended.position - 1n,
      filter: { categories: ['findings'] },
      map: (e) => [(e.data as { n: number }).n],
    });
    expect(await resumed.next()).toEqual({ value: 3, done: false });
    await resumed.return!();
    expect(open).toBe(0);
  });
});
