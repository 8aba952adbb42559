import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import {
  createPipelineConfiguration,
  type PipelineConfiguration,
} from '../../../src/configuration/pipelines.js';
import { decodeBatch } from '../../../src/domain/metrics/batch.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import { PipelineDefinition } from '../../../src/domain/pipeline/definition.js';
import { createPipelineRuntime } from '../../../src/pipelines/runtime.js';
import type { EventStore } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const T0 = 1_700_000_000_000;
const cpu = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });
const counting = (functions: string[] = ['count']) =>
  PipelineDefinition.parse({
    id: 'agg',
    route: [{ name: 'cpu' }],
    quality: { allowedLatenessMs: 0, requiredLabels: [] },
    stages: [{ type: 'aggregate', window: { type: 'tumbling', sizeMs: 10_000 }, functions }],
  });

describe('pipelines configured at run time', () => {
  let events: EventStore;
  let host: ActorHost;
  let pipelines: PipelineConfiguration;
  let second = 0;
  const ann = { by: 'user:ann' };

  /** One sample a second, in one batch each, from where the last call stopped. */
  async function feed(seconds: number): Promise<void> {
    for (let i = 0; i < seconds; i++, second++)
      await events.append('samples-src', [
        batchEvent(batchOf('src', second, [[cpu, T0 + second * 1000, 1]])),
      ]);
  }
  /** The windows (start, in seconds from T0) of the derived count series, as emitted. */
  async function windows(): Promise<number[]> {
    const out: number[] = [];
    for await (const e of events.readStream('samples-pipeline_agg')) {
      const batch = decodeBatch(e.data);
      batch.values.forEach((_, i) => {
        if (batch.series[batch.seriesIndex[i]!]!.name === 'cpu:count_10s')
          out.push((batch.timestamps[i]! - T0) / 1000);
      });
    }
    return out;
  }
  const settle = async () => {
    for (const runtime of pipelines.runtimes()) await runtime.waitFor();
  };
  const lifecycle = async () => {
    const out: [string, unknown][] = [];
    for await (const e of events.readStream('pipeline-agg')) out.push([e.type, e.metadata.principal]);
    return out;
  };

  beforeEach(async () => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    host = createActorHost({ store: events, kinds: [pipelineKind()], logger: silentLogger });
    pipelines = createPipelineConfiguration({
      events,
      host,
      logger: silentLogger,
      runtime: (definition, startAfter) =>
        createPipelineRuntime({
          definition,
          events,
          host,
          logger: silentLogger,
          startAfter,
          checkpointEvery: 1,
        }),
    });
    second = 0;
    await pipelines.start([]);
  });
  afterEach(async () => {
    await pipelines.stop();
    await host.stop();
    await events.close();
  });

  it('analyses what arrives after its definition, not the history before it', async () => {
    await feed(25);
    await pipelines.change('agg', { type: 'create', definition: counting() }, ann);
    await feed(20);
    await settle();
    // Defined after second 24: [20, 30) counts only what came after it; [30, 40) is closed by second 40.
    expect(await windows()).toEqual([20, 30]);
  });

  it('restarts an updated pipeline from its checkpoint, without emitting anything twice', async () => {
    await pipelines.change('agg', { type: 'create', definition: counting() }, ann);
    await feed(25);
    await settle();
    expect(await windows()).toEqual([0, 10]);
    const view = await pipelines.change(
      'agg',
      { type: 'update', definition: counting(['count', 'max']) },
      ann,
    );
    expect(view.config).toMatchObject({ version: 2, definition: counting(['count', 'max']) });
    expect(view.state).toBe('running');
    await feed(20);
    await settle();
    // The new definition starts with fresh state after the source batch of its last output (second 20).
    expect(await windows()).toEqual([0, 10, 20, 30]);
    expect(pipelines.runtimes()[0]!.status()).toMatchObject({ state: 'live', lastError: null });
    expect(await lifecycle()).toEqual([
      ['pipelineDefined', 'user:ann'],
      ['pipelineStarted', 'system:service'],
      ['pipelineUpdated', 'user:ann'],
      ['pipelineStopped', 'system:service'],
      ['pipelineStarted', 'system:service'],
    ]);
  });

  it('pauses, resumes from the checkpoint, and after a deletion starts again only when defined again', async () => {
    await pipelines.change('agg', { type: 'create', definition: counting() }, ann);
    await feed(15);
    await settle();
    await pipelines.change('agg', { type: 'pause' }, ann);
    expect(pipelines.runtimes()).toEqual([]);
    await feed(10);
    expect(await windows()).toEqual([0]);
    await pipelines.change('agg', { type: 'resume' }, ann);
    await settle();
    expect(await windows()).toEqual([0, 10]); // what came while it was paused, analysed on resume
    await pipelines.change('agg', { type: 'delete' }, ann);
    await feed(30);
    expect(await windows()).toEqual([0, 10]);
    await expect(pipelines.change('agg', { type: 'pause' }, ann)).rejects.toThrow(/it was deleted/);
    // Defined again: it takes what comes after its new definition, its outputs going on after the old ones.
    const again = await pipelines.change('agg', { type: 'create', definition: counting() }, ann);
    expect(again).toMatchObject({ state: 'running', config: { status: 'active', version: 5 } });
    await feed(25);
    await settle();
    // Defined again after second 54: [50, 60) counts only what came after it.
    expect(await windows()).toEqual([0, 10, 50, 60]);
    expect(pipelines.runtimes()[0]!.status()).toMatchObject({ state: 'live', lastError: null });
    expect((await lifecycle()).map(([type]) => type)).toEqual([
      'pipelineDefined',
      'pipelineStarted',
      'pipelinePaused',
      'pipelineResumed',
      'pipelineStarted',
      'pipelineDeleted',
      'pipelineDefined',
      'pipelineStarted',
    ]);
  });

  it('seeds from the file once: a restart with the same file records nothing, a deleted entry stays deleted', async () => {
    await pipelines.stop();
    const restart = async (seed: PipelineDefinition[]) => {
      const next = createPipelineConfiguration({
        events,
        host,
        logger: silentLogger,
        runtime: (definition, startAfter) =>
          createPipelineRuntime({ definition, events, host, logger: silentLogger, startAfter }),
      });
      await next.start(seed);
      return next;
    };
    pipelines = await restart([counting()]);
    expect((await pipelines.list()).map((p) => [p.id, p.config.origin, p.config.createdBy])).toEqual([
      ['agg', 'seed', 'system:config'],
    ]);
    await pipelines.change('agg', { type: 'delete' }, ann);
    await pipelines.stop();
    pipelines = await restart([counting()]);
    expect((await pipelines.list()).map((p) => p.config.status)).toEqual(['deleted']);
    expect(pipelines.runtimes()).toEqual([]);
    await pipelines.stop();
    pipelines = await restart([counting(['max'])]);
    expect((await pipelines.list()).map((p) => [p.config.status, p.config.origin])).toEqual([
      ['active', 'seed'],
    ]);
    expect((await lifecycle()).filter(([type]) => type === 'pipelineDefined')).toEqual([
      ['pipelineDefined', 'system:config'],
      ['pipelineDefined', 'system:config'],
    ]);
  });

  it('records as deleted a pipeline of an older version that the file no longer lists, and keeps one it does', async () => {
    await pipelines.stop();
    // What an older version left: pipelines defined from the file, with no origin, stopped at shutdown.
    for (const id of ['agg', 'old']) {
      const definition = { ...counting(), id };
      await host.send(
        { kind: 'pipeline', id },
        { type: 'pipelineDefined', definition },
        { principal: 'system:config' },
      );
      await host.send(
        { kind: 'pipeline', id },
        { type: 'pipelineStarted', resumedAfter: null, at: 1 },
        { principal: 'system:service' },
      );
      await host.send(
        { kind: 'pipeline', id },
        { type: 'pipelineStopped', at: 2 },
        { principal: 'system:service' },
      );
    }
    pipelines = createPipelineConfiguration({
      events,
      host,
      logger: silentLogger,
      runtime: (definition, startAfter) =>
        createPipelineRuntime({ definition, events, host, logger: silentLogger, startAfter }),
    });
    await pipelines.start([counting()]);
    expect((await pipelines.list()).map((p) => [p.id, p.config.status, p.config.updatedBy])).toEqual([
      ['agg', 'active', 'system:config'],
      ['old', 'deleted', 'system:config'],
    ]);
    expect(pipelines.runtimes().map((r) => r.id)).toEqual(['agg']);
    // The file's unchanged entry recorded nothing: its definition is the one the log holds.
    expect((await lifecycle()).map(([type]) => type)).toEqual([
      'pipelineDefined',
      'pipelineStarted',
      'pipelineStopped',
      'pipelineStarted',
    ]);
  });

  it('after a crash before its first checkpoint, a pipeline defined late emits exactly what an uninterrupted run does', async () => {
    await feed(12);
    const defined = await events.headPosition();
    const runtimeOf = () =>
      createPipelineRuntime({
        definition: counting(),
        events,
        host,
        logger: silentLogger,
        startAfter: defined,
        checkpointEvery: 1000,
      });
    await host.send(
      { kind: 'pipeline', id: 'agg' },
      { type: 'pipelineDefined', definition: counting(), ...ann, at: 1, origin: 'api' },
      { principal: 'user:ann' },
    );
    const first = runtimeOf();
    await first.start();
    await feed(20);
    await first.waitFor();
    await first.stop({ checkpoint: false }); // dies: no checkpoint was ever taken
    expect(await windows()).toEqual([10, 20]);
    const second = runtimeOf();
    await second.start();
    await feed(10);
    await second.waitFor();
    await second.stop();
    // [10, 20) counts only seconds 12-19; nothing emitted twice, nothing skipped.
    expect(await windows()).toEqual([10, 20, 30]);
    expect(second.status().lastError).toBeNull();
  });
});
