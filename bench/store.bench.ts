/**
 * Event store benchmark: appends/s (batches of 1 and of 100), catch-up read events/s, and the time to
 * rehydrate an actor from 10,000 events: cold (a new host, nothing in memory) from its stored snapshot
 * and the events after it, and, for comparison, by a full fold of the stream (snapshots off). Runs on the embedded store, or on EventStoreDB when
 * EVENTSTORE_URL is set. Prints a table, then one JSON object on the last line.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import pino from 'pino';
import { createActorHost } from '../src/actors/host.js';
import { modelKind } from '../src/actors/model.kind.js';
import { createEsdbEventStore } from '../src/stores/event-store/esdb.js';
import type { EventData, EventStore } from '../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';
import { fmt, median, report } from './report.js';

const url = process.env.EVENTSTORE_URL;
const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const store: EventStore = url
  ? createEsdbEventStore(EventStoreDBClient.connectionString`${url}`)
  : createSqliteEventStore({ path: join(dir, 'events.db') });
const run = randomUUID().slice(0, 8);

const event = (i: number): EventData => ({
  id: randomUUID(),
  type: 'batchFlushed',
  data: { seq: i, samples: 500, firstTs: 1_795_000_000_000 + i, values: [1.5, 2.25, 3.125] },
  metadata: {
    principal: 'bench',
    correlationId: randomUUID(),
    machineVersion: 1,
    schemaVersion: 1,
    state: 'idle',
  },
});

async function appendsPerSecond(batch: number, appends: number): Promise<number> {
  const streams = Array.from({ length: 50 }, (_, i) => ({
    id: `bench${batch}-${run}-${i}`,
    revision: null as bigint | null,
  }));
  const batches = Array.from({ length: appends }, (_, i) =>
    Array.from({ length: batch }, (_, j) => event(i * batch + j)),
  );
  const started = performance.now();
  for (let i = 0; i < appends; i++) {
    const stream = streams[i % streams.length]!;
    const result = await store.append(stream.id, batches[i]!, {
      expectedRevision: stream.revision ?? 'noStream',
    });
    stream.revision = result.nextExpectedRevision;
  }
  return appends / ((performance.now() - started) / 1000);
}

async function catchUpEventsPerSecond(): Promise<{ perSecond: number; events: number }> {
  const started = performance.now();
  let events = 0;
  const subscription = store.subscribeToAll();
  for await (const message of subscription) {
    if (message.kind === 'caughtUp') break;
    events++;
  }
  await subscription.close();
  return { perSecond: events / ((performance.now() - started) / 1000), events };
}

async function rehydrate10kMs(): Promise<{ snapshot: number; fullFold: number }> {
  const id = `rehydrate-${run}`;
  const stream = `model-${id}`;
  const logger = pino({ level: 'silent' });
  const history: EventData[] = [
    {
      id: randomUUID(),
      type: 'modelRegistered',
      data: { name: 'm', algorithm: 'linearRegression', features: ['x'], target: 'y' },
    },
  ];
  for (let v = 1; v <= 3; v++) {
    history.push({
      id: randomUUID(),
      type: 'trainingRequested',
      data: { dataset: { rows: [[1], [2], [3]], target: [1, 2, 3] } },
    });
    history.push({
      id: randomUUID(),
      type: 'trainingSucceeded',
      data: { version: v, metrics: { rmse: 0, r2: 1, samples: 3 }, artifact: { weights: [1], intercept: 0 } },
    });
  }
  while (history.length < 10_000) {
    history.push({ id: randomUUID(), type: 'modelDeployed', data: { version: (history.length % 3) + 1 } });
  }
  for (let i = 0; i < history.length; i += 500) await store.append(stream, history.slice(i, i + 500));
  /** Median of 5 cold rehydrations, each by a new host (nothing of the actor in memory). */
  const seen = new Set<string>();
  const coldMs = async (snapshotEvery: number): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const host = createActorHost({ store, kinds: [modelKind()], logger, snapshotEvery });
      const started = performance.now();
      const view = await host.get({ kind: 'model', id });
      times.push(performance.now() - started);
      if (view.revision !== 9_999n) throw new Error(`rehydrated to revision ${view.revision}, expected 9999`);
      seen.add(JSON.stringify([view.state, view.context]));
      await host.stop();
    }
    return median(times);
  };
  const fullFold = await coldMs(0);
  // The first rehydration folds the whole stream and stores a snapshot; the measured ones start from it.
  const first = createActorHost({ store, kinds: [modelKind()], logger });
  await first.get({ kind: 'model', id });
  await first.stop();
  const snapshot = await coldMs(500);
  if (seen.size !== 1) throw new Error('rehydrating from the snapshot gave another state than the full fold');
  return { snapshot, fullFold };
}

const single = await appendsPerSecond(1, 5_000);
const batch100 = await appendsPerSecond(100, 1_000);
const catchUp = await catchUpEventsPerSecond();
const rehydrate = await rehydrate10kMs();
await store.close();
rmSync(dir, { recursive: true, force: true });

report(
  'store',
  [
    ['event store', store.kind],
    ['appends/s, 1 event each', fmt(single)],
    ['appends/s, 100 events each', `${fmt(batch100)} (${fmt(batch100 * 100)} events/s)`],
    [`catch-up read, events/s (${fmt(catchUp.events)} events)`, fmt(catchUp.perSecond)],
    [
      'rehydrate an actor from 10,000 events, cold, from its snapshot, ms (median of 5)',
      fmt(rehydrate.snapshot, 1),
    ],
    ['rehydrate an actor from 10,000 events, cold, full fold, ms (median of 5)', fmt(rehydrate.fullFold, 1)],
  ],
  {
    store: store.kind,
    appendsPerSecondSingle: Math.round(single),
    appendsPerSecondBatch100: Math.round(batch100),
    catchUpEventsPerSecond: Math.round(catchUp.perSecond),
    rehydrate10kMs: Math.round(rehydrate.snapshot * 10) / 10,
    rehydrate10kFullFoldMs: Math.round(rehydrate.fullFold * 10) / 10,
  },
);
