import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogHub, type LogHub } from '../../../src/runtime/log-hub.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const fact = (n: number) => ({ id: crypto.randomUUID(), type: 'probed', data: { n } });
const nOf = (e: RecordedEvent) => (e.data as { n: number }).n;

/** Appends `count` events numbered from `from`, one per append (each its own position). */
async function appendRange(events: EventStore, stream: string, from: number, count: number): Promise<void> {
  for (let n = from; n < from + count; n++) await events.append(stream, [fact(n)]);
}

/** The next `count` values of a feed (fewer if it ends), failing after `ms`. */
async function take<T>(feed: AsyncIterator<T>, count: number, ms = 10_000): Promise<T[]> {
  const out: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${out.length}: ${out.join(',')}`)), ms);
  });
  try {
    while (out.length < count) {
      const next = await Promise.race([feed.next(), timeout]);
      if (next.done) break;
      out.push(next.value);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * A gate on the store's `readAll` (a feed catching up on its own): while shut, a read waits before it
 * starts (`before`), or takes its snapshot of the log and waits before answering (`after`, as a slow
 * answer from a remote store would), so that the test can move the log and the shared tail on in
 * between. The store underneath is the real one.
 */
function gated(store: EventStore, when: 'before' | 'after') {
  let open: Promise<void> = Promise.resolve();
  let release = () => {};
  let waiting = 0;
  const hold = async () => {
    waiting++;
    await open;
    waiting--;
  };
  const wrapper: EventStore = {
    ...store,
    async *readAll(options) {
      if (when === 'before') await hold();
      const page: RecordedEvent[] = [];
      for await (const event of store.readAll(options)) page.push(event);
      if (when === 'after') await hold();
      yield* page;
    },
  };
  return {
    store: wrapper,
    shut() {
      open = new Promise((resolve) => {
        release = resolve;
      });
    },
    /** Lets the held reads go; `thenShut`: the next ones are held again. */
    open(thenShut = false) {
      const go = release;
      if (thenShut) this.shut();
      go();
    },
    waiting: () => waiting,
  };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('the shared log tail', () => {
  let events: EventStore;
  let hub: LogHub;
  beforeEach(() => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
  });
  afterEach(async () => {
    await hub?.close();
    await events.close();
  });

  it('hands a resuming feed over to the shared tail without a gap or a repeat, while the log moves on during its catch-up', async () => {
    const gate = gated(events, 'before');
    hub = createLogHub({ events: gate.store, logger: silentLogger, pageSize: 10 });
    await appendRange(events, 'probe-a', 0, 35);
    // A live feed keeps the shared tail running.
    const live = hub.tail({ filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    const first = live.next();
    await until(() => hub.stats().live === 1);

    const resumed = hub.tail({ after: -1n, filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    expect(await take(resumed, 25)).toEqual(range(0, 25)); // three pages of its own read
    // Its next read waits at the gate while the log and the shared tail move on.
    gate.shut();
    const rest = take(resumed, 65);
    await until(() => gate.waiting() === 1);
    await appendRange(events, 'probe-a', 35, 30);
    expect(await first).toEqual({ value: 35, done: false });
    await until(() => hub.stats().position !== null && hub.stats().position! >= 65n);
    gate.open();
    // The rest of its own read, the join, and then the shared tail while appends go on.
    await appendRange(events, 'probe-a', 65, 35);
    expect(await rest).toEqual(range(25, 65));
    expect(await take(resumed, 10)).toEqual(range(90, 10));
    // Once it has read to the end, it is fed by the shared tail like the other.
    const more = take(resumed, 1);
    await until(() => hub.stats().live === 2);
    await events.append('probe-a', [fact(100)]);
    expect(await more).toEqual([100]);
    expect(hub.stats()).toMatchObject({ feeds: 2, live: 2, storeSubscriptions: 1 });
    await resumed.return!();
    await live.return!();
  });

  it('buffers what the shared tail hands a joining feed while it finishes its own read', async () => {
    const gate = gated(events, 'after');
    hub = createLogHub({ events: gate.store, logger: silentLogger, pageSize: 100 });
    await appendRange(events, 'probe-a', 0, 5); // positions 1-5
    const live = hub.tail({ filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    const pending = live.next();
    await until(() => hub.stats().live === 1);
    const resumed = hub.tail({ after: -1n, filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    gate.shut();
    const all = take(resumed, 13);
    // Its read has seen 0-4 (the end of the log then) and is slow to answer; 5-7 go by meanwhile.
    await until(() => gate.waiting() === 1);
    await appendRange(events, 'probe-a', 5, 3);
    expect(await pending).toEqual({ value: 5, done: false });
    await until(() => hub.stats().position === 8n);
    // It joins at position 8, and reads 5-7 itself (slow again) while 8-12 come from the shared tail.
    gate.open(true);
    await until(() => gate.waiting() === 1 && hub.stats().live === 2);
    await appendRange(events, 'probe-a', 8, 5);
    await until(() => hub.stats().position === 13n);
    gate.open();
    expect(await all).toEqual(range(0, 13));
    await appendRange(events, 'probe-a', 13, 2);
    expect(await take(resumed, 2)).toEqual([13, 14]);
    await resumed.return!();
    await live.return!();
  });

  it('moves a slow feed back to reading on its own, losing nothing, and never holds up the others', async () => {
    hub = createLogHub({ events, logger: silentLogger, maxBuffered: 5, pageSize: 7 });
    const fast = hub.tail({ filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    const slow = hub.tail({ filter: { categories: ['probe'] }, map: (e) => [nOf(e)] });
    const [fastFirst, slowFirst] = [fast.next(), slow.next()];
    await until(() => hub.stats().live === 2);
    await events.append('probe-a', [fact(0)]);
    expect(await fastFirst).toEqual({ value: 0, done: false });
    expect(await slowFirst).toEqual({ value: 0, done: false });
    // The slow one takes nothing while 100 events go by; the fast one takes them all meanwhile.
    const fastRest = take(fast, 100);
    await appendRange(events, 'probe-a', 1, 100);
    expect(await fastRest).toEqual(range(1, 100));
    expect(hub.stats()).toMatchObject({ live: 1, fallbacks: 1 });
    expect(await take(slow, 100)).toEqual(range(1, 100));
    await until(() => hub.stats().live === 2);
    await events.append('probe-a', [fact(101)]);
    expect(await take(slow, 1)).toEqual([101]);
    expect(await take(fast, 1)).toEqual([101]);
    await fast.return!();
    await slow.return!();
  });

  it('joins a selective feed whose last match is far behind the shared tail', async () => {
    hub = createLogHub({ events, logger: silentLogger, pageSize: 3 });
    await events.append('wanted-a', [fact(1)]);
    await appendRange(events, 'other-a', 0, 20);
    const other = hub.tail({ filter: { categories: ['other'] }, map: (e) => [nOf(e)] });
    const otherFirst = other.next();
    await until(() => hub.stats().live === 1);
    const wanted = hub.tail({ after: -1n, filter: { categories: ['wanted'] }, map: (e) => [nOf(e)] });
    expect(await take(wanted, 1)).toEqual([1]);
    const next = wanted.next();
    await until(() => hub.stats().live === 2);
    await events.append('other-a', [fact(20)]);
    await events.append('wanted-a', [fact(2)]);
    expect(await next).toEqual({ value: 2, done: false });
    expect(await otherFirst).toEqual({ value: 20, done: false });
    await other.return!();
    await wanted.return!();
  });

  it('starts from the head without `after`, ends a waiting feed at once, and stops the shared tail with the last feed', async () => {
    let opened = 0;
    let open = 0;
    const counted: EventStore = {
      ...events,
      subscribeToAll(options) {
        const subscription = events.subscribeToAll(options);
        opened++;
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
    await appendRange(events, 'probe-a', 0, 3);
    const feed = hub.tail({ filter: {}, map: (e) => [nOf(e)] });
    const waiting = feed.next();
    await until(() => hub.stats().live === 1);
    await events.append('probe-a', [fact(3)]);
    expect(await waiting).toEqual({ value: 3, done: false });
    const idle = feed.next();
    await feed.return!();
    expect(await idle).toEqual({ value: undefined, done: true });
    expect({ opened, open }).toEqual({ opened: 1, open: 0 });
    expect(hub.stats()).toMatchObject({ feeds: 0, live: 0, position: null });
  });

  it('ends a feed with the error its mapping throws, and the others go on', async () => {
    hub = createLogHub({ events, logger: silentLogger });
    const picky = hub.tail({
      filter: {},
      map: (e) => {
        if (nOf(e) === 1) throw new Error('poisoned fact at 1');
        return [nOf(e)];
      },
    });
    const plain = hub.tail({ filter: {}, map: (e) => [nOf(e)] });
    const [a, b] = [picky.next(), plain.next()];
    await until(() => hub.stats().live === 2);
    await appendRange(events, 'probe-a', 0, 3);
    expect(await a).toEqual({ value: 0, done: false });
    await expect(picky.next()).rejects.toThrow('poisoned fact at 1');
    expect(await picky.next()).toEqual({ value: undefined, done: true });
    expect([await b, ...(await take(plain, 2)).map((value) => ({ value, done: false }))]).toEqual(
      range(0, 3).map((value) => ({ value, done: false })),
    );
    expect(hub.stats().feeds).toBe(1);
    await plain.return!();
  });

  it('when the shared subscription fails, its feeds read on their own from where they were, and it starts again', async () => {
    let subscriptions = 0;
    /** The real store, whose first subscription breaks after handing out three events. */
    const breaking: EventStore = {
      ...events,
      subscribeToAll(options) {
        const subscription = events.subscribeToAll(options);
        if (++subscriptions > 1) return subscription;
        return {
          close: () => subscription.close(),
          async *[Symbol.asyncIterator]() {
            let handed = 0;
            for await (const message of subscription) {
              if (message.kind === 'event' && handed++ === 3) throw new Error('connection reset');
              yield message;
            }
          },
        };
      },
    };
    hub = createLogHub({ events: breaking, logger: silentLogger });
    const feed = hub.tail({ filter: {}, map: (e) => [nOf(e)] });
    const all = take(feed, 10);
    await until(() => hub.stats().live === 1);
    await appendRange(events, 'probe-a', 0, 10);
    expect(await all).toEqual(range(0, 10));
    await events.append('probe-a', [fact(10)]);
    expect(await take(feed, 1)).toEqual([10]);
    expect(hub.stats()).toMatchObject({ storeSubscriptions: 2, live: 1 });
    await feed.return!();
  });

  it('ends every feed when it is closed', async () => {
    hub = createLogHub({ events, logger: silentLogger });
    const feed = hub.tail({ filter: {}, map: (e) => [nOf(e)] });
    const waiting = feed.next();
    await until(() => hub.stats().live === 1);
    await hub.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
    const late = hub.tail({ filter: {}, map: (e) => [nOf(e)] });
    expect(await late.next()).toEqual({ value: undefined, done: true });
  });
});
