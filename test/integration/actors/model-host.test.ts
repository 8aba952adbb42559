import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { modelKind } from '../../../src/actors/model.kind.js';
import { modelMachine, type TrainInput, type TrainOutput } from '../../../src/actors/model.machine.js';
import type { ModelContext } from '../../../src/domain/model/state.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import {
  modelRegistered,
  silentLogger,
  tempDir,
  trainingRequested,
  trainingRequestedV,
  trainingSucceededV,
  user,
} from '../../support/fixtures.js';

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('actor host with the model lifecycle on the embedded store', () => {
  let store: EventStore;
  let host: ActorHost;
  let dbPath: string;
  const model = () => ({ kind: 'model', id: `m-${randomUUID().slice(0, 8)}` });

  beforeEach(() => {
    dbPath = join(tempDir(), 'events.db');
    store = createSqliteEventStore({ path: dbPath });
    host = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
  });
  afterEach(async () => {
    await host.stop();
    await store.close();
  });

  it('appends every accepted event with its envelope and resulting state, and runs training as an invoked actor', async () => {
    const address = model();
    const registered = await host.send(address, modelRegistered, { ...user, correlationId: 'corr-1' });
    expect(registered.state).toBe('registered');
    expect(registered.revision).toBe(0n);
    const requested = await host.send(address, trainingRequested, { ...user, correlationId: 'corr-2' });
    expect(requested.state).toBe('training');
    await host.settled();
    const trained = await host.get(address);
    expect(trained.state).toBe('trained');
    const context = trained.context as ModelContext;
    expect(context.versions).toHaveLength(1);
    expect(context.versions[0]!.data).toMatchObject({
      source: 'inline',
      rows: 12,
      trainRows: 9,
      testRows: 3,
    });
    expect(context.versions[0]!.evaluation.metrics.r2).toBeCloseTo(1, 9);
    const artifact = context.versions[0]!.artifact;
    if (artifact.kind !== 'inline') throw new Error('expected an inline artifact');
    expect(artifact.model).toMatchObject({ format: 1, algorithm: 'linearRegression', featureCount: 2 });

    await host.send(address, { type: 'modelDeployed', version: 1 }, user);
    await host.send(address, { type: 'modelRetired', reason: 'replaced' }, user);

    const events = await streamOf(store, `model-${address.id}`);
    expect(events.map((e) => [e.type, e.metadata.state])).toEqual([
      ['modelRegistered', 'registered'],
      ['trainingRequested', 'training'],
      ['trainingSucceeded', 'trained'],
      ['modelDeployed', 'deployed'],
      ['modelRetired', 'retired'],
    ]);
    const [, request, success] = events;
    expect(request!.metadata).toMatchObject({
      principal: 'user:test',
      correlationId: 'corr-2',
      machineVersion: 3,
      schemaVersion: 1,
    });
    // The training result is caused by the request, carries its correlation, and names the actor as principal.
    expect(success!.metadata).toMatchObject({
      principal: `actor:model-${address.id}`,
      causationId: request!.id,
      correlationId: 'corr-2',
    });
  });

  it('rejects an event the current state does not accept, and appends nothing', async () => {
    const address = model();
    await host.send(address, modelRegistered, user);
    const error = await host.send(address, { type: 'modelDeployed', version: 1 }, user).catch((e) => e);
    expect(error).toMatchObject({ code: 'EVENT_REJECTED', eventType: 'modelDeployed', state: 'registered' });
    await expect(host.send(model(), trainingRequested, user)).rejects.toMatchObject({
      code: 'EVENT_REJECTED',
    });
    expect(await streamOf(store, `model-${address.id}`)).toHaveLength(1);
  });

  it('rejects a malformed event naming the field, and appends nothing', async () => {
    const address = model();
    const error = await host
      .send(
        address,
        {
          ...modelRegistered,
          name: '',
          spec: { ...(modelRegistered as { spec: object }).spec, algorithm: 'astrology' },
        },
        user,
      )
      .catch((e) => e);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect([...new Set(error.issues.map((i: { path: string }) => i.path))].sort()).toEqual([
      'name',
      'spec.algorithm',
    ]);
    await expect(host.send(address, { type: 'noSuchEvent' }, user)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(host.send({ kind: 'model', id: 'bad id!' }, modelRegistered, user)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(host.send({ kind: 'nope', id: 'x' }, modelRegistered, user)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await streamOf(store, `model-${address.id}`)).toHaveLength(0);
  });

  it('answers a retried command id with the first result and appends once', async () => {
    const address = model();
    const first = await host.send(address, modelRegistered, { ...user, commandId: 'cmd-1' });
    const retry = await host.send(address, modelRegistered, { ...user, commandId: 'cmd-1' });
    expect(retry.duplicate).toBe(true);
    expect(retry.eventId).toBe(first.eventId);
    // Also after a restart: the command ids are part of the log.
    const other = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
    const afterRestart = await other.send(address, modelRegistered, { ...user, commandId: 'cmd-1' });
    expect(afterRestart).toMatchObject({ duplicate: true, eventId: first.eventId });
    await other.stop();
    expect(await streamOf(store, `model-${address.id}`)).toHaveLength(1);
  });

  it('turns a second writer with a stale view into a conflict, never a fork', async () => {
    const address = model();
    await host.send(address, modelRegistered, user);
    const other = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
    await other.get(address);
    await host.send(address, { type: 'modelRetired' }, user);
    await expect(other.send(address, trainingRequested, user)).rejects.toMatchObject({ code: 'CONFLICT' });
    // The stale view was dropped: the next attempt sees the truth and is rejected by the machine.
    await expect(other.send(address, trainingRequested, user)).rejects.toMatchObject({
      code: 'EVENT_REJECTED',
    });
    await other.stop();
    expect((await streamOf(store, `model-${address.id}`)).map((e) => e.type)).toEqual([
      'modelRegistered',
      'modelRetired',
    ]);
  });

  it('records a crashed training run as trainingFailed', async () => {
    const crashing = modelMachine.provide({
      actors: {
        train: fromPromise<TrainOutput, TrainInput>(async () => {
          throw new Error('out of memory');
        }),
      },
    });
    const failing = createActorHost({ store, kinds: [modelKind(crashing)], logger: silentLogger });
    const address = model();
    await failing.send(address, modelRegistered, user);
    await failing.send(address, trainingRequested, user);
    await failing.settled();
    const view = await failing.get(address);
    expect(view.state).toBe('failed');
    expect((view.context as ModelContext).lastFailure).toEqual({
      version: 1,
      reason: 'training crashed: out of memory',
    });
    await failing.stop();
  });

  it('stops training when the model is retired mid-run and does not record the late result', async () => {
    let release: (() => void) | undefined;
    let aborted: AbortSignal | undefined;
    const slow = modelMachine.provide({
      actors: {
        train: fromPromise<TrainOutput, TrainInput>(async ({ input, signal }) => {
          aborted = signal;
          await new Promise<void>((r) => {
            release = r;
          });
          return trainingSucceededV(input.version) as TrainOutput;
        }),
      },
    });
    const slowHost = createActorHost({ store, kinds: [modelKind(slow)], logger: silentLogger });
    const address = model();
    await slowHost.send(address, modelRegistered, user);
    await slowHost.send(address, trainingRequested, user);
    expect(aborted?.aborted).toBe(false);
    await slowHost.send(address, { type: 'modelRetired' }, user);
    expect(aborted?.aborted).toBe(true);
    release?.();
    await slowHost.settled();
    expect((await streamOf(store, `model-${address.id}`)).map((e) => e.type)).toEqual([
      'modelRegistered',
      'trainingRequested',
      'modelRetired',
    ]);
    await slowHost.stop();
  });

  it('drops its running work on a conflict without recording anything for it', async () => {
    const never = modelMachine.provide({
      actors: { train: fromPromise<TrainOutput, TrainInput>(() => new Promise<TrainOutput>(() => {})) },
    });
    const a = createActorHost({ store, kinds: [modelKind(never)], logger: silentLogger });
    const b = createActorHost({ store, kinds: [modelKind(never)], logger: silentLogger });
    const address = model();
    await a.send(address, modelRegistered, user);
    await a.send(address, trainingRequested, user);
    // B moves the model on (a failed run, then a new one), so A's view is stale.
    await b.send(address, { type: 'trainingFailed', reason: 'operator stopped it' }, user);
    await b.send(address, trainingRequestedV(2), user);
    await expect(a.send(address, { type: 'modelRetired' }, user)).rejects.toMatchObject({ code: 'CONFLICT' });
    await a.settled(); // B's run never ends, so only A can settle
    // A's abandoned run records nothing: B's run is still the one in progress.
    expect((await streamOf(store, `model-${address.id}`)).map((e) => e.type)).toEqual([
      'modelRegistered',
      'trainingRequested',
      'trainingFailed',
      'trainingRequested',
    ]);
    await a.stop();
    await b.stop();
  });

  it('rehydrates an actor from 10,000 events to the same state, and answers what it knew at a past revision', async () => {
    const address = model();
    await host.send(address, modelRegistered, user);
    for (let v = 1; v <= 3; v++) {
      await host.send(address, trainingRequestedV(v), user);
      await host.settled();
    }
    let count = 7;
    for (let i = 0; count < 10_000; i++, count++) {
      await host.send(address, { type: 'modelDeployed', version: (i % 3) + 1 }, user);
    }
    const before = await host.get(address);
    expect(before.revision).toBe(9_999n);
    await host.stop();

    const restarted = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
    const after = await restarted.get(address);
    expect(after).toEqual(before);
    expect((after.context as ModelContext).deployedVersion).toBe(((10_000 - 7 - 1) % 3) + 1);

    const past = await restarted.stateAt(address, { revision: 2n });
    expect(past.state).toBe('trained');
    expect((past.context as ModelContext).versions).toHaveLength(1);
    await restarted.stop();
    host = createActorHost({ store, kinds: [modelKind()], logger: silentLogger });
  });
});
