import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { modelKind } from '../../../src/actors/model.kind.js';
import { type FactType, factVersion, readFactOf } from '../../../src/domain/facts.js';
import type { ModelEvent } from '../../../src/domain/model/events.js';
import { clickhouseTime } from '../../../src/projections/audit-index/mapping.js';
import { findModels, findModelVersions, modelsProjection } from '../../../src/projections/models/index.js';
import { createProjectionRunner, type ProjectionRunner } from '../../../src/projections/runner.js';
import { type AnalyticsStore, openAnalyticsStore, queryRows } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, JsonValue, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { factArbitrary } from '../../support/fact-arbitraries.js';
import { modelRegistered, silentLogger, tempDir, trainingRequestedV, user } from '../../support/fixtures.js';

/** The `models` and `model_versions` tables against the embedded stores: the rows say what the facts say. */
describe('models projection', () => {
  let events: EventStore;
  let analytics: AnalyticsStore;
  let host: ActorHost;
  let runner: ProjectionRunner;
  const model = { kind: 'model', id: 'm1' } as const;
  const at = (e: RecordedEvent) => clickhouseTime(e.createdAt);

  beforeAll(async () => {
    const dir = tempDir();
    events = createSqliteEventStore({ path: join(dir, 'events.db') });
    analytics = await openAnalyticsStore({ database: 'models_test', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    host = createActorHost({ store: events, kinds: [modelKind()], logger: silentLogger });
    runner = createProjectionRunner({
      projection: modelsProjection,
      events,
      analytics,
      logger: silentLogger,
      batchSize: 3,
    });
  });
  afterAll(async () => {
    await runner?.stop();
    await host?.stop();
    await analytics?.close();
    await events?.close();
  });

  const send = async (event: ModelEvent) => {
    await host.send(model, event, user);
    await host.settled();
  };

  it('registered, trained twice, promoted, rolled back: one row per model and per version', async () => {
    await send(modelRegistered);
    await runner.start();
    await send(trainingRequestedV(1));
    await send(trainingRequestedV(2));
    await send({ type: 'modelDeployed', version: 2 });
    await send({ type: 'modelRolledBack', version: 1, from: 2 });
    await runner.waitFor();

    const stream: RecordedEvent[] = [];
    for await (const e of events.readStream('model-m1')) stream.push(e);
    expect(stream.map((e) => e.type)).toEqual([
      'modelRegistered',
      'trainingRequested',
      'trainingSucceeded',
      'trainingRequested',
      'trainingSucceeded',
      'modelDeployed',
      'modelRolledBack',
    ]);
    const last = stream.at(-1)!;
    expect(await findModels(analytics)).toEqual([
      {
        model_id: 'm1',
        name: 'latency_model',
        algorithm: 'linearRegression',
        task: 'regression',
        state: 'deployed',
        deployed_version: 1,
        versions: 2,
        last_version: 2,
        registered_at: at(stream[0]!),
        updated_at: at(last),
        updated_by: 'user:test',
        updated_by_fact: 'modelRolledBack',
        position: last.position.toString(),
      },
    ]);

    const versions = await findModelVersions(analytics, 'm1');
    const succeeded = stream.filter((e) => e.type === 'trainingSucceeded');
    const requested = stream.filter((e) => e.type === 'trainingRequested');
    expect(versions.map((v) => [v.version, v.status, v.deployed])).toEqual([
      [1, 'trained', true],
      [2, 'trained', false],
    ]);
    for (const [i, row] of versions.entries()) {
      const fact = readFactOf(succeeded[i]!, 'trainingSucceeded').data;
      expect(row).toEqual({
        model_id: 'm1',
        version: fact.version,
        status: 'trained',
        algorithm: fact.algorithm,
        implementation: fact.implementation,
        params: JSON.stringify(fact.params),
        feature_names: JSON.stringify(fact.featureNames),
        data_source: 'inline',
        data_rows: String(fact.data.rows),
        train_rows: String(fact.data.trainRows),
        test_rows: String(fact.data.testRows),
        data_from: null,
        data_to: null,
        data_hash: fact.data.hash,
        metrics: JSON.stringify(fact.evaluation.metrics),
        train_ms: fact.trainMs,
        artifact_kind: fact.artifact.kind,
        artifact_sha256: fact.artifact.sha256,
        artifact_bytes: String(fact.artifact.bytes),
        requested_at: at(requested[i]!),
        requested_by: 'user:test',
        trained_at: at(succeeded[i]!),
        trained_by: 'user:test',
        failure_reason: '',
        deployed: fact.version === 1,
        // The rollback changed version 1 (deployed) and version 2 (no longer).
        position: last.position.toString(),
      });
    }
    expect(JSON.parse(versions[0]!.metrics)).toHaveProperty('r2');
  });

  it('rebuilding gives the same rows, and no key twice', async () => {
    const dump = async () => ({
      models: await findModels(analytics),
      versions: await findModelVersions(analytics, 'm1'),
      all: await queryRows(
        analytics,
        `SELECT count() AS n, uniqExact(model_id, position) AS keys,
                toString(sum(cityHash64(model_id, state, versions, position))) AS h
           FROM ${analytics.table('models')}`,
      ),
    });
    const before = await dump();
    expect(before.all).toEqual([{ n: '7', keys: '7', h: expect.any(String) }]);
    await runner.rebuild();
    await runner.waitFor();
    expect(await dump()).toEqual(before);
    // A restart from the checkpoint writes nothing twice either.
    await runner.stop();
    await runner.start();
    await runner.waitFor();
    expect(await dump()).toEqual(before);
  });

  it('writes generated model facts in any order without failing', async () => {
    const types: FactType[] = [
      'modelRegistered',
      'trainingRequested',
      'trainingSucceeded',
      'trainingFailed',
      'modelDeployed',
      'modelRolledBack',
      'modelRetired',
    ];
    const sampled = types.flatMap((type, i) =>
      fc.sample(factArbitrary(type), { seed: 7 + i, numRuns: 10 }).map((data) => ({ type, data })),
    );
    for (const [i, { type, data }] of sampled.entries()) {
      await events.append(`model-gen${i % 5}`, [
        {
          id: randomUUID(),
          type,
          data: JSON.parse(JSON.stringify(data)) as JsonValue,
          metadata: { schemaVersion: factVersion(type) },
        },
      ]);
    }
    await runner.waitFor();
    expect((await runner.status()).lastError).toBeNull();
    const ids = (await findModels(analytics)).map((m) => m.model_id);
    expect(ids).toEqual(['gen0', 'gen1', 'gen2', 'gen3', 'gen4', 'm1']);
  });
});
