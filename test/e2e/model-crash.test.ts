import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findModels, findModelVersions } from '../../src/projections/models/index.js';
import { openAnalyticsStore } from '../../src/stores/clickhouse/client.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { killed, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';
import { gql } from '../support/graphql.js';
import { seeded } from '../support/seeded.js';

const ROWS = 3000;
const WIDTH = 8;

function start(dataDir: string, port: number): ChildProcess {
  return startTsChild('src/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    LEARNING_WORKERS: '1',
    SELF_MONITOR_INTERVAL_MS: '0',
    SCAVENGE_INTERVAL_MS: '3600000',
  });
}

/** A few thousand inline rows with a nonlinear target: enough for a forest to take a while. */
function dataset() {
  const random = seeded(42);
  const features = Array.from({ length: ROWS }, () => Array.from({ length: WIDTH }, () => random() * 10));
  const target = features.map((r) => Math.sin(r[0]!) * r[1]! + r[2]! * r[3]! - Math.sqrt(r[4]!) + random());
  return { inline: { features, target } };
}

const RESULT = '... on Model { id state trainingVersion } ... on Error { code message }';
const REGISTER = `mutation ($modelId: String!, $input: RegisterModelInput!) { registerModel(modelId: $modelId, input: $input) { ${RESULT} } }`;
const TRAIN = `mutation ($modelId: String!, $input: TrainModelInput, $id: String) { trainModel(modelId: $modelId, input: $input, id: $id) { ${RESULT} } }`;

interface ModelState {
  state: string;
  trainingVersion: number | null;
  lastFailure: string | null;
  versions: { version: number }[];
}

async function modelOf(url: string, id: string): Promise<ModelState> {
  const res = await gql<{ model: ModelState }>(
    url,
    'query ($id: String!) { model(id: $id) { state trainingVersion lastFailure versions { version } } }',
    { id },
  );
  if (!res.data?.model) throw new Error(`no model: ${JSON.stringify(res.errors)}`);
  return res.data.model;
}

async function settled(url: string, id: string, timeoutMs = 180_000): Promise<ModelState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await modelOf(url, id);
    if (m.state !== 'training') return m;
    if (Date.now() > until) throw new Error('training did not end');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a training run under kill -9', () => {
  it('ends once after a restart (succeeded or failed), and a retrain then succeeds', async () => {
    const dataDir = tempDir('model-crash-');
    const id = 'forest-crash';
    let port = await freePort();
    let child = start(dataDir, port);
    let url = `http://127.0.0.1:${port}`;
    try {
      await waitForLine(child, /is listening/);
      const registered = await gql<{ registerModel: { state: string } }>(url, REGISTER, {
        modelId: id,
        input: {
          name: 'forest_crash',
          algorithm: 'randomForest',
          task: 'regression',
          params: { nEstimators: 200 },
          seed: 7,
          dataset: dataset(),
          testFraction: 0.2,
        },
      });
      expect(registered.data?.registerModel).toMatchObject({ state: 'registered' });
      const train = await gql<{ trainModel: { state: string; trainingVersion: number } }>(url, TRAIN, {
        modelId: id,
        id: 'crash-train-1',
      });
      expect(train.data?.trainModel).toMatchObject({ state: 'training', trainingVersion: 1 });
      // Killed while the run is in progress, as the API says.
      await new Promise((r) => setTimeout(r, 300));
      expect((await modelOf(url, id)).state).toBe('training');
      await killed(child);

      port = await freePort();
      child = start(dataDir, port);
      url = `http://127.0.0.1:${port}`;
      await waitForLine(child, /is listening/);
      const after = await settled(url, id);
      expect(['trained', 'failed']).toContain(after.state);
      if (after.state === 'trained') expect(after.versions.map((v) => v.version)).toEqual([1]);

      // A retrain (a smaller forest) succeeds either way.
      const retrain = await gql<{ trainModel: { trainingVersion: number } }>(url, TRAIN, {
        modelId: id,
        id: 'crash-train-2',
        input: { params: { nEstimators: 5 } },
      });
      expect(retrain.data?.trainModel).toMatchObject({ trainingVersion: 2 });
      const retrained = await settled(url, id);
      console.log(
        `run 1 after the restart: ${after.state}${after.lastFailure ? ` (${after.lastFailure})` : ''}`,
      );
      expect(retrained.state).toBe('trained');
      expect(retrained.versions.map((v) => v.version)).toContain(2);
    } finally {
      await killed(child);
    }

    // The log: each run requested once and ended once.
    const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
    let last = 0n;
    let firstRun = '';
    try {
      const facts: { type: string; version?: number }[] = [];
      for await (const e of store.readStream(`model-${id}`)) {
        facts.push({ type: e.type, version: (e.data as { version?: number }).version });
        last = e.position;
      }
      const ends = (v: number) =>
        facts.filter(
          (f) => (f.type === 'trainingSucceeded' || f.type === 'trainingFailed') && f.version === v,
        );
      expect(facts.filter((f) => f.type === 'trainingRequested').map((f) => f.version)).toEqual([1, 2]);
      expect(ends(1)).toHaveLength(1);
      firstRun = ends(1)[0]!.type;
      expect(ends(2)).toEqual([{ type: 'trainingSucceeded', version: 2 }]);
    } finally {
      await store.close();
    }

    // The `models` projection says the same once it has caught up (a third start, as the second was
    // killed too): one current row per version, the run that was cut short ended once.
    port = await freePort();
    child = start(dataDir, port);
    url = `http://127.0.0.1:${port}`;
    try {
      await waitForLine(child, /is listening/);
      for (let i = 0; ; i++) {
        const health = (await (await fetch(`${url}/healthz`)).json()) as {
          consumers: { name: string; position: string | null }[];
        };
        const models = health.consumers.find((c) => c.name === 'projection:models');
        if (models?.position && BigInt(models.position) >= last) break;
        if (i > 300) throw new Error(`the models projection did not catch up: ${JSON.stringify(models)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await killed(child);
    }
    const analytics = await openAnalyticsStore({ database: 'all_use', dataDir: join(dataDir, 'clickhouse') });
    try {
      const versions = await findModelVersions(analytics, id);
      expect(versions.map((v) => [v.version, v.status])).toEqual([
        [1, firstRun === 'trainingSucceeded' ? 'trained' : 'failed'],
        [2, 'trained'],
      ]);
      const [row] = (await findModels(analytics)).filter((m) => m.model_id === id);
      expect(row).toMatchObject({ state: 'trained', last_version: 2 });
    } finally {
      await analytics.close();
    }
  }, 300_000);
});
