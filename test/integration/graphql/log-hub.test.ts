import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogHub, type LogHub } from '../../../src/runtime/log-hub.js';
import type { EventStore, Position } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const fact = (n: number) => ({ id: crypto.randomUUID(), type: 'probed', data: { n } });

/** The real store, counting the calls that open a read of the log (a thin wrapper, not a stand-in). */
function counting(store: EventStore) {
  const calls = { subscribeToAll: 0, readAll: 0 };
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'subscribeToAll' || property === 'readAll')
        return (...args: unknown[]) => {
          calls[property]++;
          return (target[property] as (...a: unknown[]) => unknown)(...args);
        };
      return Reflect.get(target, property, receiver);
    },
  });
  return { store: proxy, calls };
}

async function appendMany(events: EventStore, count: number, perAppend: number): Promise<Position> {
  let last = 0n;
  for (let n = 0; n < count; n += perAppend)
    last = (
      await events.append(
        `probe-${n % 7}`,
        Array.from({ length: Math.min(perAppend, count - n) }, (_, i) => fact(n + i)),
      )
    ).position;
  return last;
}

describe('one shared tail for every subscriber of an instance', () => {
  let events: EventStore;
  let hub: LogHub;
  beforeEach(() => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
  });
  afterEach(async () => {
    await hub?.close();
    await events.close();
  });

  it('feeds 1,000 subscribers, resuming and live, fast and slow, from one store subscription, each event once and in order while writes go on', async () => {
    const counted = counting(events);
    hub = createLogHub({ events: counted.store, logger: silentLogger, maxBuffered: 64, pageSize: 200 });
    const before = await appendMany(events, 2000, 50); // positions 1-2000
    expect(before).toBe(2000n);

    const final = 3000n; // the embedded store numbers positions 1, 2, 3…
    const writer = (async () => {
      // Writes go on while the subscribers start, catch up and join.
      for (let round = 0; round < 100; round++) {
        await appendMany(events, 10, 5);
        await new Promise((r) => setImmediate(r));
      }
      expect(await events.headPosition()).toBe(final);
    })();

    const started = performance.now();
    const subscribers = Array.from({ length: 1000 }, (_, i) => {
      // Every third one starts live (from the head); the others resume from somewhere in the first 2,000.
      const after = i % 3 === 0 ? null : BigInt((i * 7919) % 2000);
      const slow = i % 10 === 0;
      const feed = hub.tail<Position>({
        after,
        filter: { categories: ['probe'] },
        map: (event) => [event.position],
      });
      const received: Position[] = [];
      const done = (async () => {
        for (;;) {
          const next = await feed.next();
          if (next.done) throw new Error('feed ended');
          received.push(next.value);
          if (slow) await new Promise((r) => setTimeout(r, 0));
          if (next.value >= final) break;
        }
        await feed.return!();
      })();
      return { after, received, done };
    });
    await writer;
    await Promise.all(subscribers.map((s) => s.done));
    const elapsed = performance.now() - started;

    for (const { after, received } of subscribers) {
      const first = after === null ? received[0]! : after + 1n;
      const expected = Array.from({ length: Number(final - first + 1n) }, (_, k) => first + BigInt(k));
      expect(received).toEqual(expected);
    }
    const stats = hub.stats();
    // One read of the log, however many subscribers: the store subscription is the hub's.
    expect(counted.calls.subscribeToAll).toBe(1);
    expect(stats.feeds).toBe(0);
    const delivered = subscribers.reduce((sum, s) => sum + s.received.length, 0);
    console.info(
      `log hub: 1,000 subscribers, ${delivered} deliveries in ${Math.round(elapsed)} ms; store subscriptions ${counted.calls.subscribeToAll}, own catch-up reads ${counted.calls.readAll}, fallbacks of slow subscribers ${stats.fallbacks}`,
    );
  });
});
