import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, fromPromise, setup } from 'xstate';
import { type ActorKind, defineActorKind } from '../../../src/actors/actor-kind.js';
import { type ActorAddress, type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { modelKind } from '../../../src/actors/model.kind.js';
import { replayActor, startReplay } from '../../../src/actors/replay.js';
import {
  ACTOR_CACHE_CATEGORY,
  ACTOR_SNAPSHOT_TYPE,
  inFlightStreamOf,
  machineFingerprint,
  readSnapshot,
  snapshotStreamOf,
} from '../../../src/actors/snapshots.js';
import { matchesQuery } from '../../../src/audit/find-events.js';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import type { EventStore, JsonValue, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { modelRegistered, silentLogger, tempDir, trainingRequested, user } from '../../support/fixtures.js';
import { seeded } from '../../support/seeded.js';

type Job = { job: string };
type Ev =
  | { type: 'added'; n: number }
  | { type: 'noted'; text: string }
  | { type: 'started'; job: string }
  | { type: 'stepped' }
  | { type: 'finished'; result: number };
interface Ctx {
  id: string;
  total: number;
  notes: string[];
  done: number;
  lastJob: string | null;
  results: number[];
}

const never = fromPromise<Ev, Job>(() => new Promise(() => {}));
const finishes = fromPromise<Ev, Job>(async ({ input }) => ({ type: 'finished', result: input.job.length }));

/** A small machine with nested states, an invoked actor and assigns: what the kinds have, in little. */
function counterMachine(doubled = false) {
  return setup({
    types: { context: {} as Ctx, events: {} as Ev, input: {} as { id: string } },
    actors: { work: never },
  }).createMachine({
    id: 'counter',
    context: ({ input }) => ({ id: input.id, total: 0, notes: [], done: 0, lastJob: null, results: [] }),
    initial: 'idle',
    on: {
      noted: { actions: assign({ notes: ({ context, event }) => [...context.notes.slice(-5), event.text] }) },
      added: {
        actions: doubled
          ? assign({ total: ({ context, event }) => context.total + event.n * 2 })
          : assign({ total: ({ context, event }) => context.total + event.n }),
      },
    },
    states: {
      idle: {
        on: { started: { target: 'working', actions: assign({ lastJob: ({ event }) => event.job }) } },
      },
      working: {
        invoke: { id: 'job', src: 'work', input: ({ context }) => ({ job: context.lastJob ?? '' }) },
        initial: 'first',
        states: { first: { on: { stepped: 'second' } }, second: { on: { stepped: 'first' } } },
        on: {
          finished: {
            target: 'idle',
            actions: assign({
              done: ({ context }) => context.done + 1,
              results: ({ context, event }) => [...context.results, event.result],
            }),
          },
        },
      },
    },
  });
}

function counterKind(options: { version?: number; doubled?: boolean; work?: typeof never } = {}): ActorKind {
  const machine = counterMachine(options.doubled).provide({ actors: { work: options.work ?? never } });
  return defineActorKind({
    kind: 'counter',
    machine: machine as never,
    machineVersion: options.version ?? 1,
    schemaVersion: 1,
    parseEvent: (input) => input as never,
    effectFailed: () => null,
  });
}

/** The store as is, counting what is read: stream reads by stream, events read from each, and from `$all`. */
function counting(store: EventStore) {
  const streamReads: string[] = [];
  const eventsRead = new Map<string, number>();
  let allEvents = 0;
  const wrapped: EventStore = {
    ...store,
    readStream(streamId, options) {
      streamReads.push(streamId);
      const inner = store.readStream(streamId, options);
      return (async function* () {
        for await (const e of inner) {
          eventsRead.set(streamId, (eventsRead.get(streamId) ?? 0) + 1);
          yield e;
        }
      })();
    },
    readAll(options) {
      const inner = store.readAll(options);
      return (async function* () {
        for await (const e of inner) {
          allEvents++;
          yield e;
        }
      })();
    },
  };
  return {
    store: wrapped,
    streamReads,
    eventsRead,
    allEvents: () => allEvents,
    reset() {
      streamReads.length = 0;
      eventsRead.clear();
      allEvents = 0;
    },
  };
}

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

/** A random event the machine accepts in `state`. */
function nextEvent(random: () => number, working: boolean, i: number): Ev {
  const r = random();
  if (r < 0.35) return { type: 'added', n: Math.floor(random() * 100) - 50 };
  if (r < 0.55) return { type: 'noted', text: `note ${i} ${random().toString(36).slice(2, 6)}` };
  if (!working) return { type: 'started', job: `job-${i}` };
  if (r < 0.8) return { type: 'stepped' };
  return { type: 'finished', result: Math.floor(random() * 1000) };
}

describe('actor snapshots', () => {
  let store: EventStore;
  const hosts: ActorHost[] = [];
  const hostOf = (kind: ActorKind, snapshotEvery: number, on: EventStore = store) => {
    const host = createActorHost({ store: on, kinds: [kind], logger: silentLogger, snapshotEvery });
    hosts.push(host);
    return host;
  };

  beforeEach(() => {
    store = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
  });
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.stop();
    await store.close();
  });

  /** Field by field: the views, every recorded command's answer, and what a past revision looked like. */
  async function expectSameAsFullFold(
    kind: ActorKind,
    address: ActorAddress,
    snapshotEvery: number,
    commandIds: readonly string[],
    revisions: readonly bigint[],
  ) {
    const fromSnapshot = hostOf(kind, snapshotEvery);
    const fullFold = hostOf(kind, 0);
    const a = await fromSnapshot.get(address);
    const b = await fullFold.get(address);
    expect(a.state).toEqual(b.state);
    expect(a.status).toBe(b.status);
    expect(a.context).toEqual(b.context);
    expect(a.revision).toBe(b.revision);
    const retry: Ev = { type: 'noted', text: 'retry' };
    for (const commandId of commandIds) {
      const x = await fromSnapshot.send(address, retry, { ...user, commandId });
      const y = await fullFold.send(address, retry, { ...user, commandId });
      expect(x.duplicate).toBe(true);
      expect([x.eventId, x.position]).toEqual([y.eventId, y.position]);
    }
    for (const revision of revisions) {
      const p = await fromSnapshot.stateAt(address, { revision });
      const q = await fullFold.stateAt(address, { revision });
      expect([p.state, p.context, p.revision]).toEqual([q.state, q.context, q.revision]);
    }
  }

  it('rehydrates from a snapshot to exactly what a full fold gives, wherever the snapshots fall', async () => {
    for (const [seed, snapshotEvery] of [
      [1, 1],
      [2, 3],
      [3, 17],
      [4, 64],
    ] as const) {
      const random = seeded(seed);
      const kind = counterKind();
      const address = { kind: 'counter', id: `p${seed}` };
      const writer = hostOf(kind, snapshotEvery);
      const commandIds: string[] = [];
      let working = false;
      for (let i = 0; i < 240; ) {
        const batch = random() < 0.2 ? 3 : 1;
        const events: Ev[] = [];
        for (let j = 0; j < batch; j++, i++) {
          const event = nextEvent(random, working, i);
          if (event.type === 'started') working = true;
          if (event.type === 'finished') working = false;
          events.push(event);
        }
        const commandId = random() < 0.4 ? `cmd-${seed}-${i}` : undefined;
        if (commandId) commandIds.push(commandId);
        await writer.sendAll(address, events, { ...user, ...(commandId ? { commandId } : {}) });
        // Now and then a cold host rehydrates and is compared: snapshots at many points of the stream.
        if (random() < 0.08)
          await expectSameAsFullFold(kind, address, snapshotEvery, commandIds.slice(-3), []);
      }
      const saved = await readSnapshot(store, kind, `counter-p${seed}`);
      expect(saved).not.toBeNull();
      // The snapshot's command map is the stream's, up to its revision.
      const expected = new Map<string, string>();
      for (const e of await streamOf(store, `counter-p${seed}`)) {
        if (e.revision > saved!.revision) break;
        if (typeof e.metadata.commandId === 'string') expected.set(e.metadata.commandId, e.id);
      }
      expect(new Map([...saved!.commands].map(([c, r]) => [c, r.eventId]))).toEqual(expected);
      // Work in flight at the snapshot is in it, started by the event that entered the state.
      expect([...saved!.pending.keys()]).toEqual(saved!.snapshot.matches('working') ? ['job'] : []);
      // A cold host reads the snapshot and the events after it, not the stream.
      const read = counting(store);
      await hostOf(kind, snapshotEvery, read.store).get(address);
      expect(read.eventsRead.get(`counter-p${seed}`)).toBeLessThanOrEqual(snapshotEvery + 4);
      const last = (await writer.get(address)).revision!;
      await expectSameAsFullFold(kind, address, snapshotEvery, commandIds, [
        0n,
        5n,
        last / 2n,
        last - 1n,
        last,
      ]);
    }
  });

  it('keeps only the newest snapshot, in a category no reader of facts takes', async () => {
    const kind = counterKind();
    const host = hostOf(kind, 10);
    const address = { kind: 'counter', id: 'kept' };
    for (let i = 0; i < 35; i++) await host.send(address, { type: 'added', n: i }, user);
    const kept = await streamOf(store, snapshotStreamOf('counter-kept'));
    expect(kept.map((e) => [e.type, e.category, e.revision])).toEqual([
      [ACTOR_SNAPSHOT_TYPE, ACTOR_CACHE_CATEGORY, 2n],
    ]);
    expect((kept[0]!.data as { revision: string }).revision).toBe('29');
  });

  it('folds the whole stream when the snapshot is of another machine version or definition', async () => {
    const address = { kind: 'counter', id: 'versions' };
    const writer = hostOf(counterKind(), 20);
    for (let i = 0; i < 50; i++) await writer.send(address, { type: 'added', n: 1 }, user);
    const read = counting(store);

    // Same machine: only the events after the snapshot are read.
    await hostOf(counterKind(), 20, read.store).get(address);
    expect(read.eventsRead.get('counter-versions')).toBeLessThanOrEqual(12);

    for (const changed of [counterKind({ version: 2 }), counterKind({ doubled: true })]) {
      expect(machineFingerprint(changed)).not.toBe(machineFingerprint(counterKind()));
      read.reset();
      const view = await hostOf(changed, 0, read.store).get(address);
      read.reset();
      const fromSnapshotHost = await hostOf(changed, 20, read.store).get(address);
      expect(read.eventsRead.get('counter-versions')).toBe(50);
      expect(fromSnapshotHost.context).toEqual(view.context);
    }
    expect(((await hostOf(counterKind({ doubled: true }), 0).get(address)).context as Ctx).total).toBe(100);
  });

  it('folds the whole stream when it was truncated after the snapshot was taken', async () => {
    const address = { kind: 'counter', id: 'truncated' };
    const writer = hostOf(counterKind(), 20);
    for (let i = 0; i < 45; i++) await writer.send(address, { type: 'added', n: 1 }, user);
    await store.truncateStream('counter-truncated', 10n);
    const fromSnapshotHost = await hostOf(counterKind(), 20).get(address);
    const fullFold = await hostOf(counterKind(), 0).get(address);
    expect((fullFold.context as Ctx).total).toBe(35);
    expect(fromSnapshotHost.context).toEqual(fullFold.context);
    expect(fromSnapshotHost.revision).toBe(44n);
  });

  /** Rewrites the newest snapshot's payload. */
  async function tamper(streamId: string, change: (data: Record<string, JsonValue>) => JsonValue) {
    const [saved] = await streamOf(store, snapshotStreamOf(streamId));
    const data = change(structuredClone(saved!.data as Record<string, JsonValue>));
    const written = await store.append(snapshotStreamOf(streamId), [
      { id: crypto.randomUUID(), type: ACTOR_SNAPSHOT_TYPE, data, metadata: {} },
    ]);
    await store.truncateStream(snapshotStreamOf(streamId), written.nextExpectedRevision);
  }

  it.each([
    ['ahead of the stream (checksum made good)', 'ahead'],
    ['damaged: a changed context', 'context'],
    ['damaged: not a snapshot at all', 'garbage'],
    ['damaged: a state the machine does not have', 'state'],
  ])('folds the whole stream when the snapshot is %s', async (_name, how) => {
    const address = { kind: 'counter', id: `t-${how}` };
    const streamId = `counter-t-${how}`;
    const writer = hostOf(counterKind(), 20);
    for (let i = 0; i < 45; i++) await writer.send(address, { type: 'added', n: 1 }, user);
    if (how === 'ahead') {
      // A snapshot that claims more than the stream has, consistent in itself: as if of another log.
      await tamper(streamId, (d) => {
        const { digest: _digest, ...rest } = d;
        const changed = { ...rest, revision: '80' };
        return { ...changed, digest: createHash('sha256').update(JSON.stringify(changed)).digest('hex') };
      });
    } else if (how === 'context') {
      await tamper(streamId, (d) => {
        (d.state as { context: { total: number } }).context.total = 1_000_000;
        return d;
      });
    } else if (how === 'garbage') {
      await tamper(streamId, () => ({ hello: 'world' }));
    } else {
      await tamper(streamId, (d) => {
        (d.state as { value: string }).value = 'nowhere';
        return d;
      });
    }
    const read = counting(store);
    const view = await hostOf(counterKind(), 20, read.store).get(address);
    // All of it (the snapshot found ahead of the stream cost one more read of its first event).
    expect(read.eventsRead.get(streamId)).toBeGreaterThanOrEqual(45);
    expect((view.context as Ctx).total).toBe(45);
    expect(view.revision).toBe(44n);
    // The next command goes on from the right revision.
    const next = await hostOf(counterKind(), 20).send(address, { type: 'added', n: 1 }, user);
    expect(next.revision).toBe(45n);
  });

  it('carries work in flight in the snapshot: a restart resumes it, recording its result once', async () => {
    const address = { kind: 'counter', id: 'inflight' };
    const first = hostOf(counterKind(), 5);
    for (let i = 0; i < 7; i++) await first.send(address, { type: 'added', n: 1 }, user);
    const started = await first.send(address, { type: 'started', job: 'abcd' }, user);
    for (let i = 0; i < 5; i++) await first.send(address, { type: 'stepped' }, user);
    await first.stop();
    const saved = await readSnapshot(store, counterKind(), 'counter-inflight');
    // Snapshots at revisions 4 and 9 (every 5 events): the newest is after `started` (revision 7).
    expect(saved!.revision).toBe(9n);
    expect(saved!.pending.get('job')).toMatchObject({ src: 'work', input: { job: 'abcd' } });

    const restarted = hostOf(counterKind({ work: finishes }), 5);
    expect(await restarted.recover()).toBe(1);
    await restarted.settled();
    const events = await streamOf(store, 'counter-inflight');
    const finished = events.filter((e) => e.type === 'finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.metadata.causationId).toBe(started.eventId);
    expect(finished[0]!.data).toEqual({ result: 4 });
  });

  it('recover() after a restart folds only the actors with work in flight, and reads only the log since the last recovery', async () => {
    const kind = counterKind();
    const host = hostOf(kind, 500);
    expect(await host.recover()).toBe(0);
    for (let i = 0; i < 20; i++) {
      await host.send({ kind: 'counter', id: `idle${i}` }, { type: 'added', n: i }, user);
      await host.send({ kind: 'counter', id: `idle${i}` }, { type: 'noted', text: 'x' }, user);
    }
    await host.send({ kind: 'counter', id: 'busy' }, { type: 'started', job: 'xyz' }, user);
    // Started and finished: not in flight any more.
    await host.send({ kind: 'counter', id: 'was-busy' }, { type: 'started', job: 'a' }, user);
    await host.send({ kind: 'counter', id: 'was-busy' }, { type: 'finished', result: 1 }, user);
    await host.stop();

    // The first restart reads the category's events since the last recovery (those above), once.
    const read = counting(store);
    const restarted = hostOf(counterKind({ work: never }), 500, read.store);
    expect(await restarted.recover()).toBe(1);
    expect(read.allEvents()).toBe(43);
    expect(read.streamReads.filter((s) => s.startsWith('counter-'))).toEqual(['counter-busy']);
    await restarted.stop();

    // The next restart reads no event of the category: the index says what is in flight.
    read.reset();
    const again = hostOf(counterKind({ work: finishes }), 500, read.store);
    expect(await again.recover()).toBe(1);
    expect(read.allEvents()).toBe(0);
    expect(read.streamReads.filter((s) => s.startsWith('counter-'))).toEqual(['counter-busy']);
    expect(read.streamReads).toContain(inFlightStreamOf('counter'));
    await again.settled();
    expect((await again.get({ kind: 'counter', id: 'busy' })).state).toBe('idle');

    // Its result moved the actor out of flight; the index follows the log after it.
    read.reset();
    const third = hostOf(counterKind(), 500, read.store);
    expect(await third.recover()).toBe(0);
    expect(read.allEvents()).toBe(1);
    expect(read.streamReads.filter((s) => s.startsWith('counter-'))).toEqual([]);
  });

  it('recovers correctly without the index, and ignores an index of other invoking states', async () => {
    const host = hostOf(counterKind(), 500);
    await host.send({ kind: 'counter', id: 'busy' }, { type: 'started', job: 'xyz' }, user);
    await host.send({ kind: 'counter', id: 'idle' }, { type: 'added', n: 1 }, user);
    await host.stop();
    expect(await hostOf(counterKind(), 500).recover()).toBe(1);
    // An index whose invoking states are not the machine's is not used: the category is read again.
    const written = await store.append(inFlightStreamOf('counter'), [
      {
        id: crypto.randomUUID(),
        type: 'actorsInFlightIndexed',
        data: { invoking: 'other', position: '999999', streamIds: ['counter-idle'] },
      },
    ]);
    await store.truncateStream(inFlightStreamOf('counter'), written.nextExpectedRevision);
    const read = counting(store);
    expect(await hostOf(counterKind(), 500, read.store).recover()).toBe(1);
    expect(read.allEvents()).toBe(2);
    expect(read.streamReads.filter((s) => s.startsWith('counter-'))).toEqual(['counter-busy']);
  });

  it('works for the model kind: a model rehydrated from its snapshot is the full fold', async () => {
    const address = { kind: 'model', id: 'snap-model' };
    const writer = hostOf(modelKind(), 3);
    await writer.send(address, modelRegistered, user);
    await writer.send(address, trainingRequested, user);
    await writer.settled();
    for (let v = 0; v < 5; v++) await writer.send(address, { type: 'modelDeployed', version: 1 }, user);
    expect(await readSnapshot(store, modelKind(), 'model-snap-model')).not.toBeNull();
    const a = await hostOf(modelKind(), 3).get(address);
    const b = await hostOf(modelKind(), 0).get(address);
    expect([a.state, a.context, a.revision]).toEqual([b.state, b.context, b.revision]);
  });

  it('answers what an actor knew at a point (the audit fold) from a snapshot at or before it, as a full fold does', async () => {
    const kind = counterKind();
    const address = { kind: 'counter', id: 'asof' };
    const writer = hostOf(kind, 10);
    const random = seeded(9);
    let working = false;
    for (let i = 0; i < 57; i++) {
      const event = nextEvent(random, working, i);
      if (event.type === 'started') working = true;
      if (event.type === 'finished') working = false;
      await writer.send(address, event, user);
    }
    const events = await streamOf(store, 'counter-asof');
    expect((await readSnapshot(store, kind, 'counter-asof'))!.revision).toBe(49n);
    for (const point of [
      {},
      { revision: 49n },
      { revision: 53n },
      { revision: 20n },
      { position: events[55]!.position },
      { time: events[56]!.createdAt },
    ]) {
      const read = counting(store);
      const replay = await replayActor(read.store, kind, 'asof', point);
      const full = startReplay(kind, 'asof');
      for (const e of events) {
        if (point.revision !== undefined && e.revision > point.revision) break;
        if ('position' in point && e.position > point.position!) break;
        full.apply(e);
      }
      expect(replay.state.value).toEqual(full.state.value);
      expect(replay.state.context).toEqual(full.state.context);
      expect(replay.state.last?.id).toBe(full.state.last?.id);
      // A point in time folds the whole stream (event times need not rise within a stream).
      if ((point.revision === undefined || point.revision >= 49n) && !('time' in point))
        expect(read.eventsRead.get('counter-asof')).toBeLessThanOrEqual(10);
      if ('time' in point) expect(read.eventsRead.get('counter-asof')).toBe(57);
    }
  });

  it('is left out of the audit index and of audit searches that do not name it', async () => {
    const host = hostOf(counterKind(), 2);
    for (let i = 0; i < 3; i++)
      await host.send({ kind: 'counter', id: 'audited' }, { type: 'added', n: 1 }, user);
    const all: RecordedEvent[] = [];
    for await (const e of store.readAll()) all.push(e);
    const cache = all.filter((e) => e.category === ACTOR_CACHE_CATEGORY);
    expect(cache.length).toBeGreaterThan(0);
    const rows = auditIndexProjection.map(all).audit_index!;
    expect(rows.map((r) => r.stream_id)).toEqual(['counter-audited', 'counter-audited', 'counter-audited']);
    for (const e of cache) {
      expect(matchesQuery(e, {})).toBe(false);
      expect(matchesQuery(e, { types: [e.type] })).toBe(false);
      expect(matchesQuery(e, { category: ACTOR_CACHE_CATEGORY })).toBe(true);
      expect(matchesQuery(e, { streamId: e.streamId })).toBe(true);
    }
  });
});
