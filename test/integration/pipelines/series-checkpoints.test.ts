import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { PipelineDefinition } from '../../../src/domain/pipeline/definition.js';
import { PipelineEngine } from '../../../src/domain/pipeline/engine.js';
import { createCheckpointStore } from '../../../src/pipelines/checkpoints.js';
import { createPipelineRuntime } from '../../../src/pipelines/runtime.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const T0 = Date.now() - 3_600_000 - ((Date.now() - 3_600_000) % 10_000);
const SERIES = 12;
const hosts = Array.from({ length: SERIES + 8 }, (_, h) =>
  defineSeries({ name: 'load', labels: { host: `h${h}` }, kind: 'gauge' }),
);
const definition = PipelineDefinition.parse({
  id: 'watch',
  route: [{ name: 'load' }],
  quality: { allowedLatenessMs: 0, requiredLabels: [] },
  output: 'none',
  analytics: { minAnomalyScore: 0.5 },
});
const value = (h: number, i: number) =>
  50 + 3 * Math.sin(i * 0.37 + h) + Math.sin(i * 1.3 + 2 * h) + (i % 97 === 50 + h ? 40 : 0);

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

/**
 * Batches of 10 one-second steps: every series for steps 0–199, then only the first four for
 * 200–399 (the others go idle), then every series again for 400–499 (the idle ones come back).
 */
function batches(): [SeriesDef, number, number][][] {
  const out: [SeriesDef, number, number][][] = [];
  for (let b = 0; b < 50; b++) {
    const samples: [SeriesDef, number, number][] = [];
    for (let s = 0; s < 10; s++) {
      const i = b * 10 + s;
      for (let h = 0; h < SERIES; h++)
        if (i < 200 || i >= 400 || h < 4) samples.push([hosts[h]!, T0 + i * 1000, value(h, i)]);
    }
    out.push(samples);
  }
  return out;
}

/**
 * As `batches`, and eight more series from step 300 on, after the idle ones were evicted: they take
 * the rows the evicted ones gave up, and the idle ones come back at step 400 into rows of their own.
 */
function batchesWithNewcomers(): [SeriesDef, number, number][][] {
  return batches().map((samples, b) => {
    const more: [SeriesDef, number, number][] = [];
    for (let s = 0; s < 10; s++) {
      const i = b * 10 + s;
      if (i >= 300)
        for (let h = SERIES; h < SERIES + 8; h++) more.push([hosts[h]!, T0 + i * 1000, value(h, i)]);
    }
    return [...samples, ...more];
  });
}

/** What an engine that never evicts or restarts finds, as `series@ts=score`. */
function expectedAnomalies(all = batches()): string[] {
  const engine = new PipelineEngine(definition);
  const out: string[] = [];
  for (const batch of all) {
    for (const [d, ts, v] of batch) engine.accept(d, ts, v);
    const tick = engine.tick();
    for (const a of tick.anomalies) out.push(`${a.def.id}@${a.ts}=${a.score} ${JSON.stringify(a.windows)}`);
    for (const t of tick.trends) out.push(`${t.def.id}@${t.ts} trend ${t.direction}`);
  }
  return out;
}

const anomaliesIn = async (store: EventStore) =>
  (await streamOf(store, 'findings-watch'))
    .filter((e) => e.type === 'anomalyDetected' || e.type === 'trendChanged')
    .map((e) => {
      const d = e.data as {
        seriesId: string;
        ts: number;
        score: number;
        windows: unknown;
        direction: string;
      };
      return e.type === 'trendChanged'
        ? `${d.seriesId}@${d.ts} trend ${d.direction}`
        : `${d.seriesId}@${d.ts}=${d.score} ${JSON.stringify(d.windows)}`;
    });

describe('per-series checkpoints and idle-series eviction', () => {
  let events: EventStore;
  let host: ActorHost;
  beforeEach(() => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    host = createActorHost({ store: events, kinds: [pipelineKind(), agentKind()], logger: silentLogger });
  });
  afterEach(async () => {
    await host.stop();
    await events.close();
  });

  const runtime = (store: EventStore, checkpointEvery = 3, checkpointMinIntervalMs = 0) =>
    createPipelineRuntime({
      definition,
      events: store,
      host,
      logger: silentLogger,
      checkpointEvery,
      checkpointMinIntervalMs,
      checkpointSeriesChunkChars: 40_000,
      idleMs: 60_000,
    });

  it('checkpoints no sooner than its minimum interval, and a crash then replays more of the log to the same findings', async () => {
    const all = batches();
    const append = async (seq: number) =>
      events.append('samples-src', [batchEvent(batchOf('src', seq, all[seq]!))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
    const first = runtime(events, 1, 3_600_000);
    await first.start();
    for (let seq = 0; seq < 30; seq++) await append(seq);
    await first.waitFor();
    const checkpoints = (await streamOf(events, 'pipelinestate-watch')).filter(
      (e) => e.type === 'pipelineCheckpointed',
    );
    // Due after every emission, but only the first is written within the hour.
    expect(checkpoints).toHaveLength(1);
    await first.stop({ checkpoint: false });
    for (let seq = 30; seq < all.length; seq++) await append(seq);
    const second = runtime(events, 1, 3_600_000);
    await second.start();
    await second.waitFor();
    await second.stop();
    expect(await anomaliesIn(events)).toEqual(expectedAnomalies());
  });

  it.each([
    [3, 'a short chain'],
    [1, 'chains long enough to start again (evicted series copied into the new chain)'],
  ])(
    'writes only changed series in chunks, evicts idle ones, restores them on demand, and finds what an uninterrupted run finds across a crash (checkpoint every %i: %s)',
    async (every) => {
      const all = batches();
      let seq = 0;
      const append = async (samples: [SeriesDef, number, number][]) => {
        await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
          expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
        });
        seq++;
      };
      const first = runtime(events, every);
      await first.start();
      for (const samples of all.slice(0, 36)) await append(samples);
      await first.waitFor();
      const idle = first.status().series!;
      expect(idle.evicted).toBe(SERIES - 4);
      expect(idle.inMemory).toBe(4);
      expect(idle.evictions).toBe(SERIES - 4);

      // The newest checkpoint's own chunks hold only the series that changed since the one before.
      const store = createCheckpointStore({ pipelineId: 'watch', events, logger: silentLogger });
      const latest = (await store.latest())!;
      expect(latest.series!.segments.length).toBeGreaterThan(1);
      if (every === 1) {
        // The chain started again after the series went idle: its first checkpoint holds them all.
        const [start, n] = latest.series!.segments[0]!;
        const all = new Set<number>();
        for await (const e of events.readStream('pipelinestate-watch', {
          fromRevision: BigInt(start),
          maxCount: n,
        }))
          for (const [slot] of JSON.parse((e.data as { json: string }).json).series as [number][])
            all.add(slot);
        expect(all.size).toBe(SERIES);
        expect(latest.series!.base).toBeGreaterThan(0);
      }
      const [from, count] = latest.series!.segments.at(-1)!;
      const slots: number[] = [];
      for await (const e of events.readStream('pipelinestate-watch', {
        fromRevision: BigInt(from),
        maxCount: count,
      }))
        for (const [slot] of JSON.parse((e.data as { json: string }).json).series as [number][])
          slots.push(slot);
      expect(slots.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
      // No part of a checkpoint is one big string: the engine's own state has no ensembles in it.
      expect(JSON.stringify(latest.checkpoint.engine.analytics?.ensembles)).toBe('[]');

      // A crash, then the rest (the idle series come back) on a new process.
      await first.stop({ checkpoint: false });
      for (const samples of all.slice(36)) await append(samples);
      const second = runtime(events, every);
      await second.start();
      await second.waitFor();
      const back = second.status().series!;
      expect(back.restoredOnDemand).toBe(SERIES - 4);
      expect(back.evicted).toBe(0);
      await second.stop();
      expect(await anomaliesIn(events)).toEqual(expectedAnomalies());
      expect((await anomaliesIn(events)).length).toBeGreaterThan(SERIES);
    },
  );

  it('gives the rows of evicted series to new ones, and returning series rows of their own, finding what an uninterrupted run finds', async () => {
    const all = batchesWithNewcomers();
    const pipeline = runtime(events, 1);
    await pipeline.start();
    for (const [seq, samples] of all.entries()) {
      await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      if (seq === 38) {
        // Step 389: eight series evicted, eight newcomers analysed in the rows they gave up.
        await pipeline.waitFor();
        expect(pipeline.status().series).toMatchObject({ inMemory: 12, evicted: 8, bankRows: 12 });
      }
    }
    await pipeline.waitFor();
    expect(pipeline.status().series).toMatchObject({
      inMemory: 20,
      evicted: 0,
      restoredOnDemand: 8,
      bankRows: 20,
    });
    await pipeline.stop();
    expect(await anomaliesIn(events)).toEqual(expectedAnomalies(all));
  });

  it('restores a checkpoint of the older layout (every ensemble in one blob) and goes on per series', async () => {
    const all = batches().slice(0, 12);
    // The older layout: the engine's whole snapshot, ensembles included, in one checkpoint.
    const engine = new PipelineEngine(definition);
    for (const [i, samples] of all.slice(0, 6).entries()) {
      await events.append('samples-src', [batchEvent(batchOf('src', i, samples))], {
        expectedRevision: i === 0 ? 'noStream' : BigInt(i - 1),
      });
      for (const [d, ts, v] of samples) engine.accept(d, ts, v);
      engine.tick();
    }
    const head = (await streamOf(events, 'samples-src')).at(-1)!;
    const snapshot = engine.snapshot();
    expect(snapshot.analytics?.ensembles.filter(Boolean)).toHaveLength(SERIES);
    const old = createCheckpointStore({ pipelineId: 'watch', events, logger: silentLogger });
    // (Written as an older version did: no per-series records.)
    const { createHash } = await import('node:crypto');
    await old.write(
      {
        sourcePosition: head.position.toString(),
        definitionHash: createHash('sha256').update(JSON.stringify(definition)).digest('hex'),
        counters: { out: 0, quality: 0 },
        mode: 'realtime',
        rate: 0,
        lastCreatedAt: null,
        micro: { samples: 0, openedAt: null },
        emissions: 6,
        engine: JSON.parse(JSON.stringify(snapshot)),
      },
      head,
      0,
    );
    for (const [k, samples] of all.slice(6).entries()) {
      const i = k + 6;
      await events.append('samples-src', [batchEvent(batchOf('src', i, samples))], {
        expectedRevision: BigInt(i - 1),
      });
    }
    const pipeline = runtime(events);
    await pipeline.start();
    await pipeline.waitFor();
    await pipeline.stop();
    // The next checkpoint wrote every series' record (a new chain), and continues exactly.
    const latest = (await createCheckpointStore({
      pipelineId: 'watch',
      events,
      logger: silentLogger,
    }).latest())!;
    const [from, count] = latest.series!.segments[0]!;
    const slots = new Set<number>();
    for await (const e of events.readStream('pipelinestate-watch', {
      fromRevision: BigInt(from),
      maxCount: count,
    }))
      for (const [slot] of JSON.parse((e.data as { json: string }).json).series as [number][])
        slots.add(slot);
    expect(slots.size).toBe(SERIES);
    const reference = new PipelineEngine(definition);
    const found: string[] = [];
    for (const samples of all) {
      for (const [d, ts, v] of samples) reference.accept(d, ts, v);
      const tick = reference.tick();
      for (const a of tick.anomalies)
        found.push(`${a.def.id}@${a.ts}=${a.score} ${JSON.stringify(a.windows)}`);
      for (const t of tick.trends) found.push(`${t.def.id}@${t.ts} trend ${t.direction}`);
    }
    const emitted = await anomaliesIn(events);
    expect(emitted.length).toBeGreaterThan(0);
    expect(found.slice(found.length - emitted.length)).toEqual(emitted);
  });
});
