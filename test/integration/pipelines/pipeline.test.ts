import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { decodeBatch } from '../../../src/domain/metrics/batch.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { PipelineDefinition, type PipelineDefinitionInput } from '../../../src/domain/pipeline/definition.js';
import { PipelineEngine } from '../../../src/domain/pipeline/engine.js';
import { createPipelineRuntime } from '../../../src/pipelines/runtime.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import { rawRange } from '../../../src/projections/metric-series/queries.js';
import { pipelineFindingsProjection } from '../../../src/projections/pipeline-findings/index.js';
import {
  findAnomalies,
  findPatterns,
  findPeriodicity,
  findTrends,
} from '../../../src/projections/pipeline-findings/queries.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, JsonValue, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const T0 = Date.now() - 600_000 - ((Date.now() - 600_000) % 10_000);
const cpu = (host: string) => defineSeries({ name: 'cpu', labels: { host }, kind: 'gauge' });
const mem = defineSeries({ name: 'mem', labels: {}, kind: 'gauge' });

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('streaming pipeline on the log', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let host: ActorHost;
  let runners: ProjectionRunner[];
  let seq = 0;
  const source: [SeriesDef, number, number][][] = [];
  const append = async (samples: [SeriesDef, number, number][]) => {
    source.push(samples);
    await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
      expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
    });
    seq++;
  };
  const definition = (over: Partial<PipelineDefinitionInput> = {}) =>
    PipelineDefinition.parse({
      id: 'cpu_stats',
      route: [{ name: 'cpu' }],
      quality: { allowedLatenessMs: 2000, expectedIntervalMs: 1000, requiredLabels: ['host'] },
      stages: [
        {
          type: 'aggregate',
          window: { type: 'tumbling', sizeMs: 10_000 },
          functions: ['avg', 'count'],
          by: ['host'],
        },
      ],
      ...over,
    });
  /** 60 s of one-second samples for two hosts and an unrouted series, in 6 batches, with disorder. */
  const feed = async () => {
    for (let b = 0; b < 6; b++) {
      const samples: [SeriesDef, number, number][] = [];
      for (let s = 0; s < 10; s++) {
        const t = T0 + (b * 10 + s) * 1000;
        samples.push([cpu('a'), t, b * 10 + s], [cpu('b'), t, 100 + s], [mem, t, 1]);
      }
      if (b === 2) {
        [samples[3], samples[6]] = [samples[6]!, samples[3]!]; // host a, two samples swapped (within lateness)
        samples.push([cpu('a'), T0 + 25_000, 25]); // a duplicate
      }
      if (b === 4) samples.push([cpu('b'), T0 + 5_000, 999]); // far behind the watermark: late
      await append(samples);
    }
  };
  /** Batch `b` of host a's one-second samples (10 of them), sample i valued `value(i)`. */
  const secondsOf = (b: number, value: (i: number) => number) =>
    Array.from({ length: 10 }, (_, s): [SeriesDef, number, number] => {
      const i = b * 10 + s;
      return [cpu('a'), T0 + i * 1000, value(i)];
    });
  /** What an uninterrupted engine emits for the same batches. */
  const expectedOutputs = (def: PipelineDefinition) => {
    const engine = new PipelineEngine(def);
    const out: string[] = [];
    for (const batch of source) {
      for (const [d, ts, v] of batch) if (engine.routes(d)) engine.accept(d, ts, v);
      for (const s of engine.tick().derived)
        out.push(`${s.def.name}${JSON.stringify(s.def.labels)}@${s.ts}=${s.value}`);
    }
    return out;
  };
  const outputsIn = async (store: EventStore, id: string) =>
    (await streamOf(store, `samples-pipeline_${id}`)).flatMap((e) => {
      const b = decodeBatch(e.data);
      return Array.from(b.values, (v, i) => {
        const d = b.series[b.seriesIndex[i]!]!;
        return `${d.name}${JSON.stringify(d.labels)}@${b.timestamps[i]}=${v}`;
      });
    });

  beforeEach(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'pipe', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    host = createActorHost({ store: events, kinds: [pipelineKind(), agentKind()], logger: silentLogger });
    runners = [metricSeriesProjection(), pipelineFindingsProjection].map((projection) =>
      createProjectionRunner({ projection, events, analytics, logger: silentLogger }),
    );
    seq = 0;
    source.length = 0;
  });
  afterEach(async () => {
    for (const r of runners) await r.stop();
    await host.stop();
    await analytics.close();
    await events.close();
  });

  it('aggregates routed series into derived series in ClickHouse, and records its quality findings and late samples', async () => {
    const pipeline = createPipelineRuntime({ definition: definition(), events, host, logger: silentLogger });
    await pipeline.start();
    await feed();
    await pipeline.waitFor();
    await pipeline.stop();
    for (const r of runners) await r.start();
    for (const r of runners) await r.waitFor();

    const avgA = await rawRange(
      analytics,
      { name: 'cpu:avg_10s', labels: { host: 'a', pipeline: 'cpu_stats' } },
      { from: new Date(T0 - 1), to: new Date(T0 + 60_000) },
    );
    expect(avgA.map((p) => [p.ts - T0, p.value])).toEqual([
      [0, 4.5],
      [10_000, 14.5],
      [20_000, 24.5],
      [30_000, 34.5],
      [40_000, 44.5],
    ]); // the last window waits for the watermark
    const countB = await rawRange(
      analytics,
      { name: 'cpu:count_10s', labels: { host: 'b', pipeline: 'cpu_stats' } },
      { from: new Date(T0 - 1), to: new Date(T0 + 60_000) },
    );
    expect(countB.map((p) => p.value)).toEqual([10, 10, 10, 10, 10]);
    const [findings] = await queryRows<Record<string, string>>(
      analytics,
      `SELECT sum(duplicates) AS duplicates, sum(out_of_order) AS outOfOrder, sum(late) AS late, sum(samples_in) AS samplesIn
         FROM pipe.quality_findings WHERE pipeline_id = 'cpu_stats'`,
    );
    expect(findings).toMatchObject({ duplicates: '1', outOfOrder: '1', late: '1' });
    const late = await queryRows<{ value: number }>(
      analytics,
      "SELECT value FROM pipe.late_samples WHERE pipeline_id = 'cpu_stats'",
    );
    expect(late).toEqual([{ value: 999 }]);
    const lifecycle = await streamOf(events, 'pipeline-cpu_stats');
    expect(lifecycle.map((e) => e.type)).toEqual(['pipelineDefined', 'pipelineStarted', 'pipelineStopped']);
    expect(await outputsIn(events, 'cpu_stats')).toEqual(expectedOutputs(definition()));
  });

  it('resumes after a crash from its last checkpoint and emits exactly what an uninterrupted run emits', async () => {
    const def = definition();
    const first = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 4,
    });
    await first.start();
    await feed();
    await first.waitFor();
    await first.stop({ checkpoint: false }); // dies: no final checkpoint, outputs after the last one stand
    const checkpoints = await streamOf(events, 'pipelinestate-cpu_stats');
    expect(checkpoints.map((c) => (c.data as { emissions: number }).emissions)).toEqual([4]);
    // Emissions 5 and 6 stand without a checkpoint: the restart must emit them again, identically.
    const emittedBeforeCrash = (await streamOf(events, 'samples-pipeline_cpu_stats')).length;
    for (let b = 6; b < 9; b++) {
      await append(secondsOf(b, () => 7));
    }
    const second = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 4,
    });
    await second.start();
    await second.waitFor();
    await second.stop();
    expect(await outputsIn(events, 'cpu_stats')).toEqual(expectedOutputs(def));
    expect(emittedBeforeCrash).toBeGreaterThan(0);
    const revisions = (await streamOf(events, 'samples-pipeline_cpu_stats')).map((e) => Number(e.revision));
    expect(revisions).toEqual(revisions.map((_, i) => i));
  });

  it('writes a large checkpoint in parts, survives a crash between parts, and keeps only the newest checkpoint', async () => {
    const def = definition();
    let failPart: number | null = null;
    // The store a process sees: it dies while writing part `failPart` of a checkpoint.
    const dying: EventStore = {
      ...events,
      append: (streamId, batch, options) => {
        const part =
          batch[0]?.type === 'pipelineCheckpointPart' ? (batch[0].data as { index: number }).index : -1;
        if (part === failPart) return Promise.reject(new Error('process died'));
        return events.append(streamId, batch, options);
      },
    };
    const first = createPipelineRuntime({
      definition: def,
      events: dying,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
      checkpointPartChars: 300,
    });
    await first.start();
    for (let b = 0; b < 4; b++) {
      if (b === 3) failPart = 1; // the checkpoint after the 4th emission dies after its first part
      await append(secondsOf(b, (i) => i));
      if (b < 3) await first.waitFor();
    }
    while (first.status().lastError === null) await new Promise((r) => setTimeout(r, 10));
    await first.stop({ checkpoint: false });
    const state = await streamOf(events, 'pipelinestate-cpu_stats');
    const markers = state.filter((e) => e.type === 'pipelineCheckpointed');
    expect(markers).toHaveLength(1); // the complete checkpoint after emission 2 (older ones truncated)
    expect(state.at(-1)?.type).toBe('pipelineCheckpointPart'); // and the part the crash left behind
    expect((markers[0]!.data as { parts: number }).parts).toBeGreaterThan(1);

    for (let b = 4; b < 6; b++) {
      await append(secondsOf(b, (i) => i));
    }
    const second = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
      checkpointPartChars: 300,
    });
    await second.start();
    await second.waitFor();
    await second.stop();
    expect(second.status().lastError).toBeNull();
    expect(await outputsIn(events, 'cpu_stats')).toEqual(expectedOutputs(def));
    const kept = await streamOf(events, 'pipelinestate-cpu_stats');
    expect(kept.filter((e) => e.type === 'pipelineCheckpointed')).toHaveLength(1);
    expect(kept.at(-1)?.type).toBe('pipelineCheckpointed');
    // Only the newest checkpoint remains: its parts, then its marker.
    expect(kept).toHaveLength((kept.at(-1)!.data as { parts: number }).parts + 1);
  });

  it('detects a planted spike and a trend on routed series, as events and as rows, exactly once across a crash', async () => {
    const def = definition({
      id: 'watch',
      quality: { allowedLatenessMs: 0, requiredLabels: [] },
      stages: [],
      analytics: {
        minAnomalyScore: 0.9,
        trends: { window: 30, every: 10, alpha: 0.01 },
        patterns: [{ name: 'square_wave', shape: [0, 0, 10, 10, 0, 0, 10, 10], maxDistance: 0.2 }],
      },
    });
    const first = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 3,
    });
    await first.start();
    const wave = (i: number) => 50 + 2 * Math.sin(i * 1.7) + Math.sin(i * 0.31);
    const sampleAt = (i: number) => {
      const square = i >= 100 && i < 108 ? (Math.floor((i - 100) / 2) % 2 === 1 ? 51.5 : 48.5) : null;
      return i === 200 ? 95 : i >= 240 ? wave(i) + (i - 240) : (square ?? wave(i));
    };
    for (let b = 0; b < 10; b++) {
      const samples: [SeriesDef, number, number][] = [];
      for (let s = 0; s < 30; s++) {
        const i = b * 30 + s;
        // Flat with noise; a spike at i = 200; a steady climb from i = 240.
        // …and a square wave (a stored shape) at i = 100..107.
        samples.push([cpu('a'), T0 + i * 1000, sampleAt(i)]);
      }
      await append(samples);
      if (b === 6) {
        await first.waitFor();
        await first.stop({ checkpoint: false });
      }
    }
    const second = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 3,
    });
    await second.start();
    await second.waitFor();
    await second.stop();
    for (const r of runners) await r.start();
    for (const r of runners) await r.waitFor();
    const range = { from: new Date(T0 - 1), to: new Date(T0 + 400_000) };
    const anomalies = await findAnomalies(analytics, { ...range, pipelineId: 'watch' });
    const types = (await streamOf(events, 'findings-watch')).map((e) => e.type);
    expect(types).toContain('anomalyDetected');
    expect(anomalies.map((a) => [a.ts - T0, a.value])).toEqual([[200_000, 95]]);
    expect(anomalies[0]).toMatchObject({ detector: 'zscore', seriesId: cpu('a').id });
    expect(anomalies[0]!.expectedHigh).toBeLessThan(95);
    // The windows before the spike: short = the 30 samples before it, medium = all 200 before it (fewer
    // than 300), long = the last hour (all 200, fewer than 720); the spike departs most from the window
    // with the smallest spread relative to its distance.
    const before = Array.from({ length: 200 }, (_, i) => sampleAt(i));
    const windowStats = (values: number[]) => {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
      return { count: values.length, mean, std, min: Math.min(...values), max: Math.max(...values) };
    };
    const candidates = {
      short: windowStats(before.slice(170)),
      medium: windowStats(before),
      long: windowStats(before),
    };
    const [name, expectedWindow] = Object.entries(candidates).sort(
      ([, a], [, b]) => Math.abs(95 - b.mean) / b.std - Math.abs(95 - a.mean) / a.std,
    )[0]!;
    const a0 = anomalies[0]!;
    expect(a0.window).toBe(name);
    expect(a0.windowCount).toBe(expectedWindow.count);
    expect(a0.windowMean).toBeCloseTo(expectedWindow.mean, 9);
    expect(a0.windowStd).toBeCloseTo(expectedWindow.std, 9);
    expect([a0.windowMin, a0.windowMax]).toEqual([expectedWindow.min, expectedWindow.max]);
    const [event] = (await streamOf(events, 'findings-watch')).filter((e) => e.type === 'anomalyDetected');
    expect((event!.data as { windows: { name: string }[] }).windows.map((w) => w.name)).toEqual([
      'short',
      'medium',
      'long',
    ]);
    const patterns = await findPatterns(analytics, { ...range, pipelineId: 'watch', pattern: 'square_wave' });
    expect(patterns.map((p) => [p.pattern, p.ts])).toEqual([['square_wave', T0 + 107_000]]);
    expect(await findPatterns(analytics, { ...range, pattern: 'other' })).toEqual([]);
    const trends = await findTrends(analytics, { ...range, pipelineId: 'watch' });
    expect(trends.at(-1)).toMatchObject({ direction: 'rising', strength: 'strong' });
    const findings = await streamOf(events, 'findings-watch');
    expect(new Set(findings.map((e) => e.id)).size).toBe(findings.length);
    expect(findings.map((e) => Number(e.revision))).toEqual(findings.map((_, i) => i));
  });

  it('reports a planted seasonality and its frequency once each, as events and rows, exactly once across a crash', async () => {
    const def = definition({
      id: 'season',
      quality: { allowedLatenessMs: 0, requiredLabels: [] },
      stages: [],
      analytics: {
        minAnomalyScore: 0.9,
        windows: [{ name: 'long', ms: 600_000, maxSamples: 256 }],
        periodicity: { window: 'long', every: 64, minSamples: 64 },
      },
    });
    // A period of 16 samples (16 s) with a little noise, in 12 batches of 50; the pipeline dies after 7.
    const sampleAt = (i: number) => 20 + 5 * Math.sin((2 * Math.PI * i) / 16) + 0.3 * Math.sin(i * 2.3);
    const batches = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 50 }, (_, s): [SeriesDef, number, number] => {
        const i = b * 50 + s;
        return [cpu('a'), T0 + i * 1000, sampleAt(i)];
      }),
    );
    const first = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
    });
    await first.start();
    for (const [b, batch] of batches.entries()) {
      await append(batch);
      if (b === 6) {
        await first.waitFor();
        await first.stop({ checkpoint: false });
      }
    }
    const second = createPipelineRuntime({
      definition: def,
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 2,
    });
    await second.start();
    await second.waitFor();
    await second.stop();
    for (const r of runners) await r.start();
    for (const r of runners) await r.waitFor();

    // What an uninterrupted engine finds from the same batches.
    const engine = new PipelineEngine(def);
    const expected: string[] = [];
    for (const batch of batches) {
      for (const [d, ts, v] of batch) engine.accept(d, ts, v);
      for (const p of engine.tick().periodicity) expected.push(`${p.type}@${p.ts - T0}`);
    }
    // The first series is due at its 64th sample; two analyses in a row must agree (the 128th).
    expect(expected).toEqual(['seasonalityDetected@127000', 'frequenciesChanged@127000']);
    const findings = await streamOf(events, 'findings-season');
    const periodic = findings.filter(
      (e) => e.type === 'seasonalityDetected' || e.type === 'frequenciesChanged',
    );
    expect(periodic.map((e) => `${e.type}@${(e.data as { ts: number }).ts - T0}`)).toEqual(expected);
    expect(periodic[0]!.data).toMatchObject({
      seriesId: cpu('a').id,
      period: 16,
      periodMs: 16_000,
      previousPeriod: null,
    });
    const rows = await findPeriodicity(analytics, {
      from: new Date(T0 - 1),
      to: new Date(T0 + 600_000),
      pipelineId: 'season',
    });
    expect(rows.map((r) => [r.finding, r.ts - T0, r.period, r.periodMs])).toEqual([
      ['seasonalityDetected', 127_000, 16, 16_000],
      ['frequenciesChanged', 127_000, 0, null],
    ]);
    expect(rows[0]!.strength).toBeGreaterThan(0.8);
    expect(rows[1]!.frequencies).toEqual([1 / 16]);
    expect(rows[1]!.powers[0]).toBeGreaterThan(0.9);
    expect(new Set(findings.map((e) => e.id)).size).toBe(findings.length);
    expect(findings.map((e) => Number(e.revision))).toEqual(findings.map((_, i) => i));
  });

  it('starts fresh, rather than failing, from a checkpoint of an older state layout', async () => {
    const def = definition({ id: 'older' });
    // A checkpoint as the first layout wrote it (series keyed by id, no format), before any source batch.
    await events.append('pipelinestate-older', [
      {
        id: '6f1c2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
        type: 'pipelineCheckpointed',
        data: {
          sourcePosition: '0',
          definitionHash: createHash('sha256').update(JSON.stringify(def)).digest('hex'),
          counters: { out: 0, quality: 0, state: 1 },
          mode: 'realtime',
          rate: 0,
          lastCreatedAt: null,
          micro: { samples: 0, openedAt: null },
          emissions: 0,
          engine: {
            maxTs: null,
            series: { '1': { def: cpu('a'), q: { released: null, newest: null, pending: [] } } },
            stages: [],
          },
        } as unknown as JsonValue,
      },
    ]);
    const pipeline = createPipelineRuntime({ definition: def, events, host, logger: silentLogger });
    await pipeline.start();
    await feed();
    await pipeline.waitFor();
    await pipeline.stop();
    expect(pipeline.status().lastError).toBeNull();
    expect(await outputsIn(events, 'older')).toEqual(expectedOutputs(def));
  });

  it('goes on with a changed definition after a crash, emitting nothing twice', async () => {
    const first = createPipelineRuntime({
      definition: definition(),
      events,
      host,
      logger: silentLogger,
      checkpointEvery: 4,
    });
    await first.start();
    await feed();
    await first.waitFor();
    await first.stop({ checkpoint: false }); // emissions 5 and 6 stand past the last checkpoint
    const before = await streamOf(events, 'samples-pipeline_cpu_stats');
    for (let b = 6; b < 9; b++) {
      await append(secondsOf(b, () => 7));
    }
    const changed = definition({
      stages: [
        {
          type: 'aggregate',
          window: { type: 'tumbling', sizeMs: 10_000 },
          functions: ['max'],
          by: ['host'],
        },
      ],
    });
    const second = createPipelineRuntime({ definition: changed, events, host, logger: silentLogger });
    await second.start();
    await second.waitFor();
    await second.stop();
    expect(second.status().lastError).toBeNull();
    const all = await streamOf(events, 'samples-pipeline_cpu_stats');
    expect(all.map((e) => Number(e.revision))).toEqual(all.map((_, i) => i));
    const added = all.slice(before.length);
    expect(added.length).toBeGreaterThan(0);
    const lastCause = BigInt(String(before.at(-1)!.metadata.sourcePosition));
    expect(added.every((e) => BigInt(String(e.metadata.sourcePosition)) > lastCause)).toBe(true);
    // The envelope names the source batch by id (causation) and by position, apart.
    const [source] = await Promise.all([events.readAt(BigInt(String(added[0]!.metadata.sourcePosition)))]);
    expect(added[0]!.metadata.causationId).toBe(source!.id);
    expect(decodeBatch(added.at(-1)!.data).series.map((d) => d.name)).toContain('cpu:max_10s');
  });

  it('switches a hybrid pipeline to micro-batches under load and back when it calms down', async () => {
    const def = definition({
      id: 'hybrid_p',
      mode: 'hybrid',
      hybrid: { highSamplesPerSecond: 20_000, lowSamplesPerSecond: 2000 },
      microbatch: { maxSamples: 1_000_000, maxDelayMs: 200 },
      quality: { allowedLatenessMs: 0, requiredLabels: [] },
      stages: [],
    });
    const pipeline = createPipelineRuntime({ definition: def, events, host, logger: silentLogger });
    await pipeline.start();
    let t = T0;
    const burst = async (batches: number, size: number, pauseMs: number) => {
      for (let b = 0; b < batches; b++) {
        await append(Array.from({ length: size }, () => [cpu('a'), t++, 1] as [SeriesDef, number, number]));
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    };
    await burst(6, 5000, 5);
    await pipeline.waitFor();
    expect(pipeline.status().mode).toBe('microbatch');
    // The rate is an EWMA (0.3) over source batches: 20 quiet batches bring even a 1 M/s burst below 2,000/s.
    await burst(20, 1, 60);
    await pipeline.waitFor();
    expect(pipeline.status().mode).toBe('realtime');
    const switches = (await streamOf(events, 'pipeline-hybrid_p')).filter((e) => e.type === 'modeSwitched');
    expect(switches.map((e) => [(e.data as { from: string }).from, (e.data as { to: string }).to])).toEqual([
      ['realtime', 'microbatch'],
      ['microbatch', 'realtime'],
    ]);
    await pipeline.stop();
  });
});
