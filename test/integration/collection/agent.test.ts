import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { type CollectionAgentOptions, createCollectionAgent } from '../../../src/collection/agent.js';
import { decodeBatch } from '../../../src/domain/metrics/batch.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';
import { switchable } from '../../support/switchable-store.js';

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every (series name, ts, value) in the agent's samples stream, in stream order. */
async function samplesIn(store: EventStore, agentId: string): Promise<[string, number, number][]> {
  const out: [string, number, number][] = [];
  for (const event of await streamOf(store, `samples-${agentId}`)) {
    const batch = decodeBatch(event.data);
    for (let i = 0; i < batch.values.length; i++) {
      out.push([batch.series[batch.seriesIndex[i]!]!.name, batch.timestamps[i]!, batch.values[i]!]);
    }
  }
  return out;
}

describe('collection agent on the embedded store', () => {
  let real: EventStore;
  let store: ReturnType<typeof switchable>;
  let host: ActorHost;
  let dir: string;
  const agents: { stop(): Promise<void> }[] = [];
  const make = (over: Partial<CollectionAgentOptions> = {}) => {
    const agent = createCollectionAgent({
      id: 'a1',
      events: store,
      host,
      logger: silentLogger,
      spoolDir: join(dir, 'spool'),
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
      ...over,
    });
    agents.push(agent);
    return agent;
  };

  beforeEach(() => {
    dir = tempDir();
    real = createSqliteEventStore({ path: join(dir, 'events.db') });
    store = switchable(real);
    host = createActorHost({ store, kinds: [agentKind()], logger: silentLogger });
  });
  afterEach(async () => {
    store.down = false;
    for (const agent of agents.splice(0)) await agent.stop();
    await host.stop();
    await real.close();
  });

  it('flushes event-driven samples as one columnar batch event per batch, in order, with its lifecycle', async () => {
    const agent = make({ batchMaxSamples: 100 });
    await agent.start(['event']);
    const cpu = agent.series({ name: 'cpu', labels: { host: 'h1' }, kind: 'gauge' });
    const t = Date.now();
    for (let i = 0; i < 250; i++) expect(agent.record(cpu, i / 4, t + i)).toBe(true);
    await agent.flush();
    const batches = await streamOf(real, 'samples-a1');
    expect(batches.map((b) => [b.type, b.revision, decodeBatch(b.data).values.length])).toEqual([
      ['batchFlushed', 0n, 100],
      ['batchFlushed', 1n, 100],
      ['batchFlushed', 2n, 50],
    ]);
    expect(decodeBatch(batches[0]!.data).seq).toBe(0);
    const samples = await samplesIn(real, 'a1');
    expect(samples).toEqual(Array.from({ length: 250 }, (_, i) => ['cpu', t + i, i / 4]));
    expect(agent.health()).toMatchObject({
      batchesFlushed: 3,
      samplesFlushed: 250,
      bufferDepth: 0,
      delivery: 'healthy',
    });
    await agent.stop();
    const lifecycle = await streamOf(real, 'agent-a1');
    expect(lifecycle.map((e) => [e.type, e.metadata.state])).toEqual([
      ['agentStarted', { running: { sampling: 'normal', delivery: 'healthy' } }],
      ['agentStopped', 'stopped'],
    ]);
  });

  it('flushes by time when a batch does not fill', async () => {
    const agent = make({ batchMaxSamples: 10_000, batchMaxDelayMs: 30 });
    await agent.start();
    const g = agent.series({ name: 'g', kind: 'gauge' });
    agent.record(g, 1);
    agent.record(g, 2);
    await until(async () => (await streamOf(real, 'samples-a1')).length === 1);
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual([1, 2]);
  });

  it('continues the sequence of its samples stream after a restart', async () => {
    const first = make();
    await first.start();
    first.record(first.series({ name: 'g', kind: 'gauge' }), 1);
    await first.stop();
    const second = make();
    await second.start();
    second.record(second.series({ name: 'g', kind: 'gauge' }), 2);
    await second.flush();
    expect((await streamOf(real, 'samples-a1')).map((e) => e.revision)).toEqual([0n, 1n]);
  });

  it('rejects bad samples at the edge naming index, field and reason, and keeps the good ones', async () => {
    const agent = make({ limits: { maxPastMs: 60_000, maxFutureMs: 1000, maxSeriesPerMetric: 2 } });
    await agent.start();
    const now = Date.now();
    const result = agent.recordSamples([
      { name: 'ok_metric', labels: { a: '1' }, kind: 'gauge', value: 1 },
      { name: 'ok_metric', labels: { a: '2' }, kind: 'gauge', value: Number.NaN },
      { name: '1bad', kind: 'gauge', value: 1 },
      { name: 'ok_metric', labels: { a: '3' }, kind: 'gauge', value: 2, timestamp: now - 3_600_000 },
      { name: 'ok_metric', labels: { a: '4' }, kind: 'gauge', value: 3 },
      { name: 'ok_metric', labels: { a: '5' }, kind: 'gauge', value: 4 },
      { name: 'ok_metric', labels: { 'bad-label': 'x' }, kind: 'gauge', value: 4 },
    ]);
    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.path])).toEqual([
      [1, 'value'],
      [2, 'name'],
      [3, 'timestamp'],
      [5, 'labels'],
      [6, 'labels.bad-label'],
    ]);
    expect(result.rejected.find((r) => r.index === 5)!.message).toMatch(/already has 2 series/);
    await agent.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual([1, 3]);
    expect(() => agent.series({ name: 'x', kind: 'bogus' as 'gauge' })).toThrow(/kind: must be one of/);
  });

  it('anonymises labels at ingest: dropped ones never reach the log, hashed ones arrive hashed', async () => {
    const agent = make({
      privacy: {
        dropLabels: ['email'],
        hashLabels: ['client_ip'],
        valueRules: [],
        secret: 'a-secret-of-16+chars',
      },
    });
    await agent.start();
    agent.recordSamples([
      {
        name: 'logins',
        labels: { email: 'a@b.c', client_ip: '10.1.2.3', app: 'web' },
        kind: 'counter',
        value: 1,
      },
    ]);
    await agent.flush();
    const [event] = await streamOf(real, 'samples-a1');
    const text = JSON.stringify(event!.data);
    expect(text).not.toContain('a@b.c');
    expect(text).not.toContain('10.1.2.3');
    const labels = decodeBatch(event!.data).series[0]!.labels;
    expect(Object.keys(labels).sort()).toEqual(['app', 'client_ip']);
    expect(labels.client_ip).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses new samples when the buffer is full, never discarding buffered ones', async () => {
    const agent = make({ bufferCapacity: 10, batchMaxSamples: 1000, batchMaxDelayMs: 60_000 });
    await agent.start();
    const g = agent.series({ name: 'g', kind: 'gauge' });
    const results = Array.from({ length: 15 }, (_, i) => agent.record(g, i));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(agent.health()).toMatchObject({ samplesDropped: 5, bufferDepth: 10 });
    await agent.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('spools while the event store is down and replays in order when it returns: every sample once', async () => {
    const agent = make({ batchMaxSamples: 20 });
    await agent.start();
    const g = agent.series({ name: 'g', kind: 'gauge' });
    let n = 0;
    const t = Date.now();
    const recordSome = async (count: number) => {
      for (let i = 0; i < count; i++, n++) agent.record(g, n, t + n);
      await agent.flush();
    };
    await recordSome(30);
    store.down = true;
    await recordSome(70);
    expect(agent.health()).toMatchObject({ delivery: 'degraded' });
    expect(agent.health().spooledBatches).toBeGreaterThan(0);
    await recordSome(25);
    store.down = false;
    await until(() => agent.health().delivery === 'healthy');
    await recordSome(5);
    const samples = await samplesIn(real, 'a1');
    expect(samples.map(([, , v]) => v)).toEqual(Array.from({ length: 130 }, (_, i) => i));
    const revisions = (await streamOf(real, 'samples-a1')).map((e) => Number(e.revision));
    expect(revisions).toEqual(revisions.map((_, i) => i));
    await until(async () => (await streamOf(real, 'agent-a1')).length === 3);
    const lifecycle = await streamOf(real, 'agent-a1');
    expect(lifecycle.map((e) => e.type)).toEqual(['agentStarted', 'deliveryDegraded', 'deliveryRestored']);
    expect(lifecycle[2]!.data).toMatchObject({ replayedBatches: agent.health().spooledTotal });
  });

  it('stops spooling at the size cap and holds the rest in memory, dropping only new samples', async () => {
    const agent = make({ batchMaxSamples: 10, bufferCapacity: 30, spoolMaxBytes: 1 });
    await agent.start();
    const g = agent.series({ name: 'g', kind: 'gauge' });
    store.down = true;
    for (let i = 0; i < 10; i++) agent.record(g, i);
    await agent.flush(); // one batch spooled: the cap is reached
    for (let i = 10; i < 50; i++) agent.record(g, i);
    // Neither the log nor the spool can take them: flush says so at once, and they stay held.
    await expect(agent.flush()).rejects.toThrow(/spool is full/);
    expect(agent.health()).toMatchObject({ spooledBatches: 1, bufferDepth: 30, samplesDropped: 10 });
    store.down = false;
    await until(() => agent.health().delivery === 'healthy');
    await agent.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it('replays a spool left by a process that died while the store was down', async () => {
    const dead = switchable(real);
    const dying = make({ batchMaxSamples: 10, events: dead });
    await dying.start();
    const g = dying.series({ name: 'g', kind: 'gauge' });
    dying.record(g, 0);
    await dying.flush();
    dead.down = true; // for good: the dying process never reaches the store again
    store.down = true;
    for (let i = 1; i < 35; i++) dying.record(g, i);
    await dying.flush();
    expect(dying.health().spooledBatches).toBe(4);
    agents.splice(agents.indexOf(dying), 1); // it "dies": never stopped
    store.down = false;
    const next = make({ batchMaxSamples: 10 });
    await next.start();
    await until(() => next.health().spooledBatches === 0);
    next.record(next.series({ name: 'g', kind: 'gauge' }), 35);
    await next.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual(
      Array.from({ length: 36 }, (_, i) => i),
    );
  });

  it('never loses a batch when a second writer uses the same agent id: the conflict renumbers it', async () => {
    const one = make();
    const two = make();
    await one.start();
    await two.start();
    one.record(one.series({ name: 'g', kind: 'gauge' }), 1);
    two.record(two.series({ name: 'g', kind: 'gauge' }), 2);
    await one.flush();
    await two.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v).sort()).toEqual([1, 2]);
    expect((await streamOf(real, 'samples-a1')).map((e) => e.revision)).toEqual([0n, 1n]);
  });

  it('cuts a torn spool record (a crash mid-write) and keeps spooling and replaying the good ones', async () => {
    const dead = switchable(real);
    const dying = make({ batchMaxSamples: 5, events: dead });
    await dying.start();
    const g = dying.series({ name: 'g', kind: 'gauge' });
    dead.down = true; // for good: the dying process never reaches the store again
    store.down = true;
    for (let i = 0; i < 10; i++) dying.record(g, i);
    await dying.flush();
    agents.splice(agents.indexOf(dying), 1);
    const { appendFileSync, readdirSync } = await import('node:fs');
    // A record cut short by the crash: its marker and part of its length.
    appendFileSync(join(dir, 'spool', 'a1.spool'), Buffer.from([0xf5, 0xa7, 0x5f, 0x01, 0x10, 0x00]));
    const next = make({ batchMaxSamples: 5 });
    await next.start(); // store still down: it spools behind the good records
    // A torn tail is cut, with a copy of the file as it was kept beside it (never cut without one).
    expect(readdirSync(join(dir, 'spool')).map((f) => f.replace(/-\d+$/, ''))).toEqual([
      'a1.spool',
      'a1.spool.torn',
    ]);
    for (let i = 10; i < 15; i++) next.record(next.series({ name: 'g', kind: 'gauge' }), i);
    await next.flush();
    expect(next.health().spooledBatches).toBe(3);
    store.down = false;
    await until(() => next.health().spooledBatches === 0 && next.health().delivery === 'healthy');
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual(
      Array.from({ length: 15 }, (_, i) => i),
    );
  });

  it('sets a damaged spool record aside (the file kept, an error logged) and replays the intact records after it', async () => {
    const dead = switchable(real);
    const dying = make({ batchMaxSamples: 25_000, events: dead });
    await dying.start();
    dead.down = true;
    const g = dying.series({ name: 'g', kind: 'gauge' });
    const t = Date.now();
    for (let i = 0; i < 50_000; i++) dying.record(g, i, t - 50_000 + i);
    await dying.flush();
    expect(dying.health().spooledBatches).toBe(2);
    agents.splice(agents.indexOf(dying), 1);
    const { readFileSync, writeFileSync, readdirSync } = await import('node:fs');
    const path = join(dir, 'spool', 'a1.spool');
    const bytes = readFileSync(path);
    bytes[200] = bytes[200]! ^ 0xff; // one flipped byte inside the first record
    writeFileSync(path, bytes);
    const lines: string[] = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const next = make({ logger });
    await next.start();
    await until(() => next.health().spooledBatches === 0 && next.health().delivery === 'healthy');
    const values = (await samplesIn(real, 'a1')).map(([, , v]) => v);
    expect(values).toEqual(Array.from({ length: 25_000 }, (_, i) => 25_000 + i));
    expect(next.health().spoolDamagedRecords).toBe(1);
    const kept = readdirSync(join(dir, 'spool')).filter((f) => f.startsWith('a1.spool.damaged-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, 'spool', kept[0]!))).toEqual(bytes);
    const error = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.level === 50);
    expect(error?.msg).toMatch(/damaged spool records set aside: 1 record/);
  });

  it('renumbers spooled batches on replay when the stream moved on meanwhile', async () => {
    const first = make();
    await first.start();
    const g = first.series({ name: 'g', kind: 'gauge' });
    first.record(g, 1);
    await first.flush();
    store.down = true;
    first.record(g, 2);
    await first.flush(); // spooled as seq 1
    // Meanwhile another writer takes revision 1 of the stream.
    const { batchEvent, batchOf } = await import('../../support/batches.js');
    await real.append('samples-a1', [batchEvent(batchOf('a1', 1, [[g.def, Date.now(), 99]]))], {
      expectedRevision: 0n,
    });
    store.down = false;
    await until(() => first.health().delivery === 'healthy');
    first.record(g, 3);
    await first.flush();
    expect((await samplesIn(real, 'a1')).map(([, , v]) => v)).toEqual([1, 99, 2, 3]);
  });

  it('samples periodically, and on a threshold crossing flushes at once and samples faster until it clears', async () => {
    const agent = make({ batchMaxSamples: 10_000, batchMaxDelayMs: 60_000 });
    await agent.start(['periodic', 'threshold']);
    const temperature = agent.series({ name: 'temperature', kind: 'gauge' });
    let calls = 0;
    agent.sample(() => {
      calls++;
    }, 1000);
    agent.watch({ series: temperature, above: 90, fastIntervalMs: 10 });
    agent.record(temperature, 50);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(0);
    expect(await streamOf(real, 'samples-a1')).toHaveLength(0);
    agent.record(temperature, 95);
    await until(async () => (await streamOf(real, 'samples-a1')).length === 1);
    expect(agent.health().accelerated).toBe(true);
    await until(() => calls >= 3);
    agent.record(temperature, 60);
    expect(agent.health().accelerated).toBe(false);
    const before = calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(before);
    await until(async () => (await streamOf(real, 'agent-a1')).length === 3);
    const lifecycle = await streamOf(real, 'agent-a1');
    expect(lifecycle.map((e) => e.type)).toEqual(['agentStarted', 'samplingAccelerated', 'samplingRestored']);
    expect(lifecycle[1]!.data).toMatchObject({ value: 95, bound: 90, direction: 'above', intervalMs: 10 });
    expect(lifecycle[1]!.metadata.state).toEqual({
      running: { sampling: 'accelerated', delivery: 'healthy' },
    });
  });
});
