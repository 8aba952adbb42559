import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EventData,
  type EventStore,
  type RecordedEvent,
  type SubscriptionMessage,
  WrongExpectedVersionError,
} from '../../../src/stores/event-store/port.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function ev(type: string, data: Record<string, number | string> = {}): EventData {
  return { id: randomUUID(), type, data, metadata: { source: 'contract' } };
}

/** Reads a subscription until `until` says stop; returns everything seen. */
async function readUntil(
  messages: AsyncIterable<SubscriptionMessage>,
  until: (seen: RecordedEvent[], message: SubscriptionMessage) => boolean,
): Promise<{ events: RecordedEvent[]; caughtUpAfter: number | null }> {
  const events: RecordedEvent[] = [];
  let caughtUpAfter: number | null = null;
  for await (const message of messages) {
    if (message.kind === 'event') events.push(message.event);
    else if (caughtUpAfter === null) caughtUpAfter = events.length;
    if (until(events, message)) break;
  }
  return { events, caughtUpAfter };
}

/**
 * The one contract every event store adapter passes. `factory` returns a fresh store; streams and
 * categories get fresh names per test, so a shared server works too.
 */
export function describeEventStoreContract(name: string, factory: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      await store?.close();
    });
    const fresh = (category = `c${randomUUID().slice(0, 8)}`) => `${category}-${randomUUID()}`;

    it('appends to a new stream and reads it forwards with revisions from 0', async () => {
      const stream = fresh();
      const result = await store.append(stream, [ev('a', { n: 1 }), ev('b', { n: 2 })], {
        expectedRevision: 'noStream',
      });
      expect(result.nextExpectedRevision).toBe(1n);
      const events = await collect(store.readStream(stream));
      expect(events.map((e) => [e.type, e.revision, e.data])).toEqual([
        ['a', 0n, { n: 1 }],
        ['b', 1n, { n: 2 }],
      ]);
      expect(events[1]!.position).toBe(result.position);
      expect(events[0]!.position < events[1]!.position).toBe(true);
      expect(events[0]!.category).toBe(stream.split('-')[0]);
      expect(events[0]!.metadata).toMatchObject({ source: 'contract' });
      expect(events[0]!.createdAt).toBeInstanceOf(Date);
    });

    it('reads a missing stream as empty', async () => {
      expect(await collect(store.readStream(fresh()))).toEqual([]);
    });

    it('rejects every kind of wrong expected revision with a typed error and appends nothing', async () => {
      const stream = fresh();
      await expect(
        store.append(stream, [ev('x')], { expectedRevision: 'streamExists' }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError);
      await expect(store.append(stream, [ev('x')], { expectedRevision: 0n })).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      await store.append(stream, [ev('first')], { expectedRevision: 'noStream' });
      const conflict = await store
        .append(stream, [ev('x')], { expectedRevision: 'noStream' })
        .catch((e) => e);
      expect(conflict).toBeInstanceOf(WrongExpectedVersionError);
      expect(conflict).toMatchObject({ code: 'WRONG_EXPECTED_VERSION', streamId: stream, actual: 0n });
      await expect(store.append(stream, [ev('x')], { expectedRevision: 5n })).rejects.toBeInstanceOf(
        WrongExpectedVersionError,
      );
      await store.append(stream, [ev('second')], { expectedRevision: 0n });
      await store.append(stream, [ev('third')], { expectedRevision: 'streamExists' });
      await store.append(stream, [ev('fourth')], { expectedRevision: 'any' });
      expect((await collect(store.readStream(stream))).map((e) => e.type)).toEqual([
        'first',
        'second',
        'third',
        'fourth',
      ]);
    });

    it('lets exactly one of two concurrent writers with the same expected revision win', async () => {
      const stream = fresh();
      await store.append(stream, [ev('created')], { expectedRevision: 'noStream' });
      const results = await Promise.allSettled([
        store.append(stream, [ev('w1')], { expectedRevision: 0n }),
        store.append(stream, [ev('w2')], { expectedRevision: 0n }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(failed.reason).toBeInstanceOf(WrongExpectedVersionError);
      expect(await collect(store.readStream(stream))).toHaveLength(2);
    });

    it('treats a retried append with the same event ids as idempotent', async () => {
      const stream = fresh();
      const batch = [ev('a'), ev('b')];
      const first = await store.append(stream, batch, { expectedRevision: 'noStream' });
      const retry = await store.append(stream, batch, { expectedRevision: 'noStream' });
      expect(retry.nextExpectedRevision).toBe(first.nextExpectedRevision);
      const again = await store.append(stream, batch, { expectedRevision: 'any' });
      expect(again.nextExpectedRevision).toBe(1n);

      expect(await collect(store.readStream(stream))).toHaveLength(2);
    });

    it('reads backwards from the end, from a revision, and with a limit', async () => {
      const stream = fresh();
      await store.append(
        stream,
        Array.from({ length: 10 }, (_, i) => ev('n', { i })),
        { expectedRevision: 'noStream' },
      );
      const backwards = await collect(store.readStream(stream, { direction: 'backwards' }));
      expect(backwards.map((e) => e.revision)).toEqual([9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n]);
      const limited = await collect(
        store.readStream(stream, { direction: 'backwards', fromRevision: 6n, maxCount: 3 }),
      );
      expect(limited.map((e) => e.revision)).toEqual([6n, 5n, 4n]);
      const forwardFrom = await collect(store.readStream(stream, { fromRevision: 7n, maxCount: 2 }));
      expect(forwardFrom.map((e) => e.data)).toEqual([{ i: 7 }, { i: 8 }]);
      const last = await collect(store.readStream(stream, { direction: 'backwards', maxCount: 1 }));
      expect(last.map((e) => e.revision)).toEqual([9n]);
    });

    it('reads all events in global order after a position, with filters', async () => {
      const category = `ra${randomUUID().slice(0, 8)}`;
      const before = (await store.headPosition()) ?? undefined;
      const s1 = fresh(category);
      const s2 = fresh(category);
      await store.append(s1, [ev('one')]);
      await store.append(s2, [ev('two')]);
      await store.append(s1, [ev('three')]);
      const all = await collect(store.readAll(before === undefined ? {} : { after: before }));
      const mine = all.filter((e) => e.category === category);
      expect(mine.map((e) => e.type)).toEqual(['one', 'two', 'three']);
      for (let i = 1; i < all.length; i++) expect(all[i]!.position > all[i - 1]!.position).toBe(true);
      const byType = await collect(
        store.readAll({ after: mine[0]!.position, filter: { eventTypes: ['three'] } }),
      );
      expect(byType.filter((e) => e.category === category).map((e) => e.streamId)).toEqual([s1]);
      const limited = await collect(store.readAll({ after: mine[0]!.position, maxCount: 1 }));
      expect(limited).toHaveLength(1);
      expect(limited[0]!.position > mine[0]!.position).toBe(true);
      expect(await store.headPosition()).toBe(mine[2]!.position);
    });

    it('subscribes from a position: catch-up, caughtUp, then live, without gap or duplicate under concurrent appends', async () => {
      const category = `sub${randomUUID().slice(0, 8)}`;
      const streams = [fresh(category), fresh(category), fresh(category)];
      const start = (await store.headPosition()) ?? undefined;
      // Historic events, enough to span several pages of catch-up.
      for (let i = 0; i < 30; i++) {
        await store.append(
          streams[i % 3]!,
          Array.from({ length: 50 }, (_, j) => ev('historic', { i, j })),
        );
      }
      const subscription = store.subscribeToAll({
        ...(start === undefined ? {} : { after: start }),
        filter: { categories: [category] },
      });
      const total = 1500 + 300;
      // Writers race the catch-up: these appends land while the subscription is reading history.
      const writers = Promise.all(
        streams.map(async (stream, w) => {
          for (let i = 0; i < 20; i++) {
            await store.append(
              stream,
              Array.from({ length: 5 }, (_, j) => ev('live', { w, i, j })),
            );
            await new Promise((r) => setImmediate(r));
          }
        }),
      );
      const { events, caughtUpAfter } = await readUntil(subscription, (seen) => seen.length >= total);
      await writers;
      await subscription.close();
      expect(events).toHaveLength(total);
      expect(new Set(events.map((e) => e.id)).size).toBe(total);
      for (let i = 1; i < events.length; i++)
        expect(events[i]!.position > events[i - 1]!.position).toBe(true);
      // Caught up only after the history that existed when it subscribed.
      expect(caughtUpAfter).toBeGreaterThanOrEqual(1500);
      // Per stream, revisions arrive in order with none missing.
      for (const stream of streams) {
        const revisions = events.filter((e) => e.streamId === stream).map((e) => Number(e.revision));
        expect(revisions).toEqual(revisions.map((_, i) => i));
      }
    });

    it('delivers appends made after the subscriber caught up (live), and stops on close', async () => {
      const category = `live${randomUUID().slice(0, 8)}`;
      const stream = fresh(category);
      const subscription = store.subscribeToAll({
        after: (await store.headPosition()) ?? undefined,
        filter: { categories: [category] },
      });
      const iterator = subscription[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value).toEqual({ kind: 'caughtUp' });
      const pending = iterator.next();
      await store.append(stream, [ev('arrived', { n: 42 })]);
      const next = await pending;
      expect(next.value).toMatchObject({ kind: 'event', event: { type: 'arrived', data: { n: 42 } } });
      await subscription.close();
      expect((await iterator.next()).done).toBe(true);
    });

    it('filters subscriptions by event type across categories', async () => {
      const type = `only${randomUUID().slice(0, 8)}`;
      const start = (await store.headPosition()) ?? undefined;
      await store.append(fresh('x'), [ev('other'), ev(type, { n: 1 })]);
      await store.append(fresh('y'), [ev(type, { n: 2 }), ev('other')]);
      const subscription = store.subscribeToAll({
        ...(start === undefined ? {} : { after: start }),
        filter: { eventTypes: [type] },
      });
      const { events } = await readUntil(subscription, (_seen, message) => message.kind === 'caughtUp');
      await subscription.close();
      expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('catches up when the newest events are all of other categories (filtered out before they are sent)', async () => {
      const category = `sparse${randomUUID().slice(0, 8)}`;
      const start = (await store.headPosition()) ?? undefined;
      await store.append(fresh(category), [ev('mine', { n: 1 })]);
      for (let i = 0; i < 10; i++)
        await store.append(
          fresh('noise'),
          Array.from({ length: 20 }, (_, k) => ev('other', { k })),
        );
      const subscription = store.subscribeToAll({
        ...(start === undefined ? {} : { after: start }),
        filter: { categories: [category] },
      });
      const { events } = await readUntil(subscription, (_seen, message) => message.kind === 'caughtUp');
      await subscription.close();
      expect(events.map((e) => e.data)).toEqual([{ n: 1 }]);
    });

    it('stops keeping events past their stream max age, and continues the revisions', async () => {
      const stream = fresh('retained');
      await store.setStreamMaxAge(stream, 1);
      await store.append(stream, [ev('old', { n: 1 }), ev('old', { n: 2 })], {
        expectedRevision: 'noStream',
      });
      await new Promise((r) => setTimeout(r, 1500));
      const head = await store.headPosition();
      await store.scavenge(head!);
      expect(await collect(store.readStream(stream))).toEqual([]);
      await store.setStreamMaxAge(stream, null);
      const next = await store.append(stream, [ev('new', { n: 3 })], { expectedRevision: 1n });
      expect(next.nextExpectedRevision).toBe(2n);
      expect((await collect(store.readStream(stream))).map((e) => e.data)).toEqual([{ n: 3 }]);
      // A stream that was only given a max age does not exist yet.
      const empty = fresh('retained');
      await store.setStreamMaxAge(empty, 60_000);
      await store.append(empty, [ev('first')], { expectedRevision: 'noStream' });
    });

    it('truncates a stream before a revision, keeping its revisions', async () => {
      const stream = fresh('truncated');
      await store.append(
        stream,
        [1, 2, 3, 4, 5].map((n) => ev('cached', { n })),
        {
          expectedRevision: 'noStream',
        },
      );
      await store.truncateStream(stream, 3n);
      expect((await collect(store.readStream(stream))).map((e) => [e.revision, e.data])).toEqual([
        [3n, { n: 4 }],
        [4n, { n: 5 }],
      ]);
      const [last] = await collect(store.readStream(stream, { direction: 'backwards', maxCount: 1 }));
      expect(last?.revision).toBe(4n);
      await expect(store.append(stream, [ev('cached', { n: 6 })], { expectedRevision: 2n })).rejects.toThrow(
        WrongExpectedVersionError,
      );
      const next = await store.append(stream, [ev('cached', { n: 6 })], { expectedRevision: 4n });
      expect(next.nextExpectedRevision).toBe(5n);
      expect((await collect(store.readStream(stream))).map((e) => e.revision)).toEqual([3n, 4n, 5n]);
    });

    it('has one identity (epoch) for as long as it lives', async () => {
      const first = await store.identity();
      expect(first.epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(await store.identity()).toEqual(first);
    });

    it('reads the event at an exact position, and finds an event of a stream by its id', async () => {
      const stream = fresh('lookup');
      const events = [ev('a', { n: 1 }), ev('b', { n: 2 })];
      const appended = await store.append(stream, events, { expectedRevision: 'noStream' });
      const atLast = await store.readAt(appended.position);
      expect([atLast?.id, atLast?.type, atLast?.revision]).toEqual([events[1]!.id, 'b', 1n]);
      const found = await store.findEvent(stream, events[0]!.id);
      expect([found?.type, found?.revision, found?.data, found?.metadata]).toEqual([
        'a',
        0n,
        { n: 1 },
        { source: 'contract' },
      ]);
      expect(await store.findEvent(stream, randomUUID())).toBeNull();
      expect(await store.findEvent(fresh('lookup'), events[0]!.id)).toBeNull();
      const head = (await store.headPosition())!;
      expect(await store.readAt(head + 1000n)).toBeNull();
      // The highest position ever given stays where it is when events go.
      await store.truncateStream(stream, 2n);
      expect(await store.highestPosition()).toBeGreaterThanOrEqual(appended.position);
    });
  });
}
