import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, gql } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const MODEL =
  'id state deployedVersion trainingVersion lastFailure versions { version deployed algorithm params data { rows trainRows testRows trainedUntil hash from to } metrics { name value } artifactKind }';
const RESULT = `... on Model { ${MODEL} } ... on Error { __typename code message }`;

interface ModelShape {
  id: string;
  state: string;
  deployedVersion: number | null;
  trainingVersion: number | null;
  lastFailure: string | null;
  versions: {
    version: number;
    deployed: boolean;
    params: Record<string, unknown>;
    data: { rows: number; trainRows: number; testRows: number; hash: string };
    metrics: { name: string; value: number | null }[];
    artifactKind: string;
  }[];
}

/** `cpu{host=m}` one sample a second from `start`: a smooth wave that its own lags predict well. */
const wave = (start: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    name: 'cpu',
    labels: [{ name: 'host', value: 'm' }],
    kind: 'gauge',
    value: 50 + 20 * Math.sin(i / 8),
    timestamp: new Date(start + i * 1000).toISOString(),
  }));

describe('models as actors through the API', () => {
  let service: Service & { url: string };
  let ann: Record<string, string>;
  let bob: Record<string, string>;
  let annId: string;
  let bobId: string;
  const T0 = Math.floor((Date.now() - 900_000) / 1000) * 1000;
  const id = `cpu-${Date.now().toString(36)}`;

  beforeAll(async () => {
    service = await startService({ LEARNING_WORKERS: '1' });
    const a = await createKey(service.url, 'ann', 'admin');
    const b = await createKey(service.url, 'bob', 'admin');
    ann = { authorization: `Bearer ${a.key}` };
    bob = { authorization: `Bearer ${b.key}` };
    annId = a.principal;
    bobId = b.principal;
  });
  afterAll(async () => {
    await service?.stop();
  });

  const model = async (headers = ann) =>
    (
      await gql<{ model: ModelShape }>(
        service.url,
        `query ($id: String!) { model(id: $id) { ${MODEL} } }`,
        { id },
        headers,
      )
    ).data!.model;
  async function trained(version: number): Promise<ModelShape> {
    for (let i = 0; i < 600; i++) {
      const m = await model();
      if (m.state !== 'training' && m.versions.some((v) => v.version === version)) return m;
      if (m.state === 'failed') throw new Error(`training failed: ${m.lastFailure}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('training did not finish');
  }
  const rmse = (m: ModelShape, v: number) =>
    m.versions.find((x) => x.version === v)!.metrics.find((x) => x.name === 'rmse')!.value!;

  it('registers, trains twice, promotes the better version, rolls back, predicts, and the log says who did what', async () => {
    expect(await gql(service.url, INGEST, { samples: wave(T0, 400) })).toEqual({
      data: { ingestMetrics: { accepted: 400 } },
    });
    await settle(service);
    const series = [{ name: 'cpu', matchers: [{ label: 'host', value: 'm' }] }];
    const dataset = (seconds: number) => ({
      fromSeries: {
        series,
        from: new Date(T0).toISOString(),
        to: new Date(T0 + seconds * 1000).toISOString(),
        stepMs: 1000,
        lags: [1, 2],
        target: { series: series[0], horizonSteps: 1 },
      },
    });
    // The dataset query previews the same input (series stored and readable).
    const preview = await gql<{ dataset: { rowsKept: number } }>(
      service.url,
      'query ($spec: DatasetInput!) { dataset(spec: $spec) { rowsKept } }',
      { spec: dataset(200) },
    );
    expect(preview.errors).toBeUndefined();
    expect(preview.data!.dataset.rowsKept).toBeGreaterThan(150);

    const register = await gql<{ registerModel: ModelShape }>(
      service.url,
      `mutation ($modelId: String!, $input: RegisterModelInput!, $id: String) { registerModel(modelId: $modelId, input: $input, id: $id) { ${RESULT} } }`,
      {
        modelId: id,
        id: 'register-1',
        input: {
          name: 'cpu_next',
          algorithm: 'linearRegression',
          task: 'regression',
          dataset: dataset(200),
          testFraction: 0.25,
        },
      },
      ann,
    );
    expect(register.data!.registerModel).toMatchObject({ id, state: 'registered' });

    const TRAIN = `mutation ($modelId: String!, $input: TrainModelInput, $id: String) { trainModel(modelId: $modelId, input: $input, id: $id) { ${RESULT} } }`;
    // Version 1: a heavily penalised fit on the first 200 s.
    const first = await gql<{ trainModel: ModelShape }>(
      service.url,
      TRAIN,
      { modelId: id, id: 'train-1', input: { params: { ridgeAlpha: 1e7 } } },
      ann,
    );
    expect(first.data!.trainModel).toMatchObject({ state: 'training', trainingVersion: 1 });
    // The same command id again: answered, not repeated.
    const retry = await gql<{ trainModel: ModelShape }>(
      service.url,
      TRAIN,
      { modelId: id, id: 'train-1', input: { params: { ridgeAlpha: 1e7 } } },
      ann,
    );
    expect(retry.errors).toBeUndefined();
    const afterFirst = await trained(1);
    expect(afterFirst.state).toBe('trained');
    expect(afterFirst.versions[0]!.data).toMatchObject({
      trainRows: expect.any(Number),
      testRows: expect.any(Number),
    });
    expect(afterFirst.versions[0]!.params).toMatchObject({ ridgeAlpha: 1e7 });
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));

    // Version 2: ordinary least squares on a longer window, asked by bob.
    const second = await gql<{ trainModel: ModelShape }>(
      service.url,
      TRAIN,
      { modelId: id, id: 'train-2', input: { params: { ridgeAlpha: 0 }, dataset: dataset(380) } },
      bob,
    );
    expect(second.data!.trainModel).toMatchObject({ state: 'training', trainingVersion: 2 });
    const both = await trained(2);
    expect(both.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(both.versions[1]!.data.hash).not.toBe(both.versions[0]!.data.hash);

    const compared = await gql<{
      compareModelVersions: {
        rows: number;
        a: { metrics: { name: string; value: number }[] };
        b: { metrics: { name: string; value: number }[] };
      };
    }>(
      service.url,
      `query ($id: String!) { compareModelVersions(id: $id, a: 1, b: 2) { rows from to a { version metrics { name value } } b { version metrics { name value } } } }`,
      { id },
    );
    expect(compared.errors).toBeUndefined();
    const cmp = compared.data!.compareModelVersions;
    expect(cmp.rows).toBeGreaterThan(0);
    const score = (side: typeof cmp.a) => side.metrics.find((m) => m.name === 'rmse')!.value;
    const better = rmse(both, 2) <= rmse(both, 1) && score(cmp.b) <= score(cmp.a) ? 2 : 1;
    expect(better).toBe(2);

    const PROMOTE = `mutation ($modelId: String!, $version: Int!, $id: String) { promoteModel(modelId: $modelId, version: $version, id: $id) { ${RESULT} } }`;
    const promoted = await gql<{ promoteModel: ModelShape }>(
      service.url,
      PROMOTE,
      { modelId: id, version: better, id: 'promote-2' },
      bob,
    );
    expect(promoted.data!.promoteModel).toMatchObject({ state: 'deployed', deployedVersion: 2 });

    const rows = [[50, 49, 48]];
    const PREDICT = `query ($id: String!, $rows: [[Float!]!], $version: Int, $from: DateTime, $to: DateTime) {
      predict(modelId: $id, rows: $rows, version: $version, from: $from, to: $to) { version predictions times featureNames } }`;
    const p2 = await gql<{ predict: { version: number; predictions: number[] } }>(service.url, PREDICT, {
      id,
      rows,
    });
    expect(p2.data!.predict.version).toBe(2);

    const ROLLBACK = `mutation ($modelId: String!, $id: String) { rollbackModel(modelId: $modelId, id: $id) { ${RESULT} } }`;
    const rolled = await gql<{ rollbackModel: ModelShape }>(
      service.url,
      ROLLBACK,
      { modelId: id, id: 'rollback-1' },
      ann,
    );
    expect(rolled.data!.rollbackModel).toMatchObject({ state: 'deployed', deployedVersion: 1 });

    // Predictions now come from the older version, for given rows and for rows built from series.
    const p1 = await gql<{ predict: { version: number; predictions: number[] } }>(service.url, PREDICT, {
      id,
      rows,
    });
    expect(p1.data!.predict.version).toBe(1);
    expect(p1.data!.predict.predictions).toHaveLength(1);
    expect(p1.data!.predict.predictions[0]).not.toBeCloseTo(p2.data!.predict.predictions[0]!, 3);
    const fromSeries = await gql<{ predict: { version: number; predictions: number[]; times: string[] } }>(
      service.url,
      PREDICT,
      {
        id,
        from: new Date(T0 + 300_000).toISOString(),
        to: new Date(T0 + 310_000).toISOString(),
      },
    );
    expect(fromSeries.errors).toBeUndefined();
    expect(fromSeries.data!.predict.version).toBe(1);
    expect(fromSeries.data!.predict.predictions.length).toBeGreaterThan(5);
    // Another version on request.
    const explicit = await gql<{ predict: { version: number } }>(service.url, PREDICT, {
      id,
      rows,
      version: 2,
    });
    expect(explicit.data!.predict.version).toBe(2);

    // Who did what, from the log.
    const audit = await gql<{ auditEvents: { edges: { node: { type: string; principal: string } }[] } }>(
      service.url,
      'query ($f: AuditEventFilter) { auditEvents(filter: $f, first: 100) { edges { node { type principal } } } }',
      { f: { streamId: `model-${id}` } },
    );
    expect(audit.data!.auditEvents.edges.map((e) => [e.node.type, e.node.principal])).toEqual([
      ['modelRegistered', annId],
      ['trainingRequested', annId],
      ['trainingSucceeded', `actor:model-${id}`],
      ['trainingRequested', bobId],
      ['trainingSucceeded', `actor:model-${id}`],
      ['modelDeployed', bobId],
      ['modelRolledBack', annId],
    ]);

    // As of a time between the trainings, the model had the first version only.
    const past = await gql<{ actorState: { value: string; context: { versions: { version: number }[] } } }>(
      service.url,
      'query ($id: String!, $at: DateTime!) { actorState(streamId: $id, asOf: { at: $at }) { value context } }',
      { id: `model-${id}`, at: between },
    );
    expect(past.data!.actorState.value).toBe('trained');
    expect(past.data!.actorState.context.versions.map((v) => v.version)).toEqual([1]);

    const list = await gql<{ models: { edges: { node: { id: string } }[] } }>(
      service.url,
      'query { models { edges { node { id } } } }',
    );
    expect(list.data!.models.edges.map((e) => e.node.id)).toContain(id);
  }, 120_000);
});
