import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { learningPipelineKind } from '../../../src/actors/learningpipeline.kind.js';
import { createArtifactStore } from '../../../src/actors/model.artifacts.js';
import { modelKind } from '../../../src/actors/model.kind.js';
import { createModelRegistry, type ModelRegistry } from '../../../src/actors/model.registry.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { createLearningPool, type LearningPool } from '../../../src/learning/pool/pool.js';
import { createBlobStore } from '../../../src/learning-pipelines/blobs.js';
import {
  createLearningPipelines,
  type LearningPipelines,
} from '../../../src/learning-pipelines/pipelines.js';
import { createTaskRunner } from '../../../src/learning-pipelines/tasks/index.js';
import { alertsProjection } from '../../../src/projections/alerts/index.js';
import { metricSeriesProjection } from '../../../src/projections/metric-series/index.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, JsonValue } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

const MIN = 60_000;
const CYCLE = 40;
const CPU = defineSeries({ name: 'fp_cpu', labels: { service: 'checkout' }, kind: 'gauge' });
const QUEUE = defineSeries({ name: 'fp_queue', labels: { service: 'checkout' }, kind: 'gauge' });

/** Quiet for most of each 40-minute cycle, then cpu and queue climb for 8 minutes until an alert fires. */
function at(minute: number): { cpu: number; queue: number } {
  const phase = minute % CYCLE;
  const wobble = Math.sin(minute * 1.7);
  if (phase < CYCLE - 8) return { cpu: 20 + 3 * wobble, queue: 5 + wobble };
  const k = phase - (CYCLE - 8);
  return { cpu: 30 + 8 * k + 3 * wobble, queue: 10 + 6 * k + wobble };
}

function fired(series: SeriesDef, time: number) {
  return {
    id: randomUUID(),
    type: 'alertFired',
    data: {
      key: `queue_high:${series.id}`,
      rule: 'queue_high',
      seriesId: series.id,
      labels: series.labels,
      severity: 'critical',
      value: 60,
      since: time,
      at: time,
      sourcePosition: null,
    } as unknown as JsonValue,
  };
}

describe('the built-in failure prediction pipeline', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let runners: ProjectionRunner[];
  let pool: LearningPool;
  let host: ActorHost;
  let pipelines: LearningPipelines;
  let models: ModelRegistry;
  const minutes = 12 * CYCLE;
  const T0 = Math.floor((Date.now() - (minutes + 30) * MIN) / MIN) * MIN;

  beforeAll(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'learning_fp', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    const samples: [SeriesDef, number, number][] = [];
    const alerts = [];
    for (let m = 0; m < minutes; m++) {
      const v = at(m);
      samples.push([CPU, T0 + m * MIN + 30_000, v.cpu], [QUEUE, T0 + m * MIN + 30_000, v.queue]);
      if (m % CYCLE === CYCLE - 1) alerts.push(fired(QUEUE, T0 + (m + 1) * MIN + 5_000));
    }
    await events.append('samples-agent1', [batchEvent(batchOf('agent1', 0, samples))]);
    await events.append('alertmanager-main', alerts);
    runners = [metricSeriesProjection(), alertsProjection].map((projection) =>
      createProjectionRunner({ projection, events, analytics, logger: silentLogger }),
    );
    for (const r of runners) await r.start();
    for (const r of runners) await r.waitFor();
    pool = createLearningPool({ size: 1, queueMax: 8 });
    const artifacts = createArtifactStore(join(dir, 'models'));
    host = createActorHost({
      store: events,
      logger: silentLogger,
      kinds: [
        modelKind(),
        learningPipelineKind(
          createTaskRunner({
            analytics,
            pool,
            artifacts,
            blobs: createBlobStore(join(dir, 'learning')),
            get models() {
              return models;
            },
            host: () => host,
            now: Date.now,
          }),
        ),
      ],
    });
    models = createModelRegistry({ host, events, analytics, artifacts });
    pipelines = createLearningPipelines({
      host,
      analytics,
      events,
      logger: silentLogger,
      tickMs: 3_600_000,
      maxRunning: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    await pool?.close();
    for (const r of runners ?? []) await r.stop();
    await analytics?.close();
    await events?.close();
  });

  it('learns "an alert within the horizon" from the component metrics, judged on later cycles', async () => {
    await pipelines.defineBuiltIn(
      'checkout',
      'failurePrediction',
      {
        component: { matchers: [{ label: 'service', value: 'checkout' }] },
        stepMs: MIN,
        windowMs: (minutes + 60) * MIN,
        horizonMs: 5 * MIN,
        scheduleMs: 0,
      },
      'user:test',
    );
    await pipelines.run('checkout', 'user:test');
    let view = await pipelines.get('checkout');
    for (let i = 0; view!.state === 'running' && i < 1200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = await pipelines.get('checkout');
    }
    const run = view!.context.current!;
    expect(run.tasks.map((t) => [t.id, t.status, t.error])).toEqual(
      ['read', 'features', 'train', 'evaluate', 'register', 'promote'].map((id) => [id, 'succeeded', null]),
    );
    const output = (id: string) => run.tasks.find((t) => t.id === id)!.output!;
    // The label: 1 in the five minutes before each alert (the climb), 0 otherwise.
    expect(output('features')).toMatchObject({ targetKind: 'label' });
    expect(Number(output('features').positives)).toBeGreaterThan(30);
    const metrics = output('evaluate').metrics as { accuracy: number; f1: number };
    expect(metrics.accuracy).toBeGreaterThan(0.9);
    expect(metrics.f1).toBeGreaterThan(0.7);
    expect(Number(output('evaluate').positives)).toBeGreaterThan(5);
    const model = await models.get('failure-checkout');
    expect(model.context.deployedVersion).toBe(1);
    expect(model.context.versions[0]!.spec.algorithm).toBe('randomForest');
  }, 120_000);
});
