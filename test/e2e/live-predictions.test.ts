import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;

const sample = (name: string, value: number, ts: number) => ({
  name,
  labels: [{ name: 'host', value: 'a' }],
  kind: 'gauge',
  value,
  timestamp: new Date(ts).toISOString(),
});

interface Made {
  attachmentId: string;
  modelId: string;
  version: number;
  position: string;
  predictions: { ts: string; seriesId: string; value: number }[];
}

describe('a model attached to live series', () => {
  let service: Service & { url: string };
  const T0 = Math.floor((Date.now() - 900_000) / 1000) * 1000;
  const modelId = `lp-${Date.now().toString(36)}`;

  beforeAll(async () => {
    service = await startService({ LEARNING_WORKERS: '1' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('scores new samples with the deployed version, records the predictions, projects them and streams them', async () => {
    // y = 3x + 2, one sample a second: the model learns it from the stored series.
    const xs = Array.from({ length: 200 }, (_, i) => 10 + 5 * Math.sin(i / 7) + (i % 5));
    const history = xs.flatMap((x, i) => [
      sample('lp_x', x, T0 + i * 1000),
      sample('lp_y', 3 * x + 2, T0 + i * 1000),
    ]);
    expect((await gql(service.url, INGEST, { samples: history })).errors).toBeUndefined();
    await settle(service);

    const register = await gql(
      service.url,
      `mutation ($modelId: String!, $input: RegisterModelInput!) { registerModel(modelId: $modelId, input: $input) {
        ... on Model { id state } ... on Error { code message } } }`,
      {
        modelId,
        input: {
          name: 'y_from_x',
          algorithm: 'linearRegression',
          task: 'regression',
          dataset: {
            fromSeries: {
              series: [{ name: 'lp_x', matchers: [{ label: 'host', value: 'a' }] }],
              from: new Date(T0).toISOString(),
              to: new Date(T0 + 200_000).toISOString(),
              stepMs: 1000,
              target: {
                series: { name: 'lp_y', matchers: [{ label: 'host', value: 'a' }] },
                horizonSteps: 0,
              },
            },
          },
        },
      },
    );
    expect(register.data).toMatchObject({ registerModel: { id: modelId, state: 'registered' } });
    const train = await gql(
      service.url,
      `mutation ($modelId: String!) { trainModel(modelId: $modelId) { ... on Model { trainingVersion } ... on Error { code message } } }`,
      { modelId },
    );
    expect(train.data).toMatchObject({ trainModel: { trainingVersion: 1 } });
    for (let i = 0; ; i++) {
      const m = await gql<{ model: { state: string; versions: { version: number }[]; lastFailure: string } }>(
        service.url,
        'query ($id: String!) { model(id: $id) { state lastFailure versions { version } } }',
        { id: modelId },
      );
      const model = m.data!.model;
      if (model.state === 'failed') throw new Error(`training failed: ${model.lastFailure}`);
      if (model.state !== 'training' && model.versions.length) break;
      if (i > 600) throw new Error('training did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    const promote = await gql(
      service.url,
      `mutation ($modelId: String!) { promoteModel(modelId: $modelId, version: 1) { ... on Model { deployedVersion } ... on Error { code message } } }`,
      { modelId },
    );
    expect(promote.data).toMatchObject({ promoteModel: { deployedVersion: 1 } });

    const attach = await gql<{ attachModel: { id: string; seriesIds: string[]; code?: string } }>(
      service.url,
      `mutation ($input: AttachModelInput!) { attachModel(input: $input) {
        ... on ModelAttachment { id modelId seriesIds every attachedBy } ... on Error { code message } } }`,
      {
        input: {
          id: 'live-y',
          modelId,
          selector: { name: 'lp_x', matchers: [{ label: 'host', value: 'a' }] },
        },
      },
    );
    expect(attach.errors).toBeUndefined();
    expect(attach.data!.attachModel).toMatchObject({ id: 'live-y', modelId, every: null });
    const [xId] = attach.data!.attachModel.seriesIds;
    expect(xId).toMatch(/^\d+$/);

    const client = wsClient(service.url);
    const made = collect<Made>(
      client,
      `subscription { predictionMade(attachmentId: "live-y", after: "0") {
        attachmentId modelId version position predictions { ts seriesId value } } }`,
    );
    try {
      // New samples after the attachment: each sample of x is scored (x is the only input).
      const T1 = T0 + 300_000;
      const fresh = [10, 12.5, 7, 14, 9];
      expect(
        (
          await gql(service.url, INGEST, {
            samples: fresh.map((x, i) => sample('lp_x', x, T1 + i * 1000)),
          })
        ).errors,
      ).toBeUndefined();
      for (const agent of service.agents.values()) await agent.flush();
      const items = await made.until(
        (got) => got.reduce((n, m) => n + m.predictions.length, 0) >= fresh.length,
        30_000,
      );
      const predictions = items.flatMap((m) => m.predictions);
      expect(
        items.every((m) => m.attachmentId === 'live-y' && m.modelId === modelId && m.version === 1),
      ).toBe(true);
      expect(predictions.map((p) => Date.parse(p.ts))).toEqual(fresh.map((_, i) => T1 + i * 1000));
      expect(predictions.every((p) => p.seriesId === xId)).toBe(true);

      // The same values as `predict` on the same rows, and (by hand) 3x + 2.
      const predict = await gql<{ predict: { predictions: number[] } }>(
        service.url,
        'query ($id: String!, $rows: [[Float!]!]) { predict(modelId: $id, rows: $rows) { predictions } }',
        { id: modelId, rows: fresh.map((x) => [x]) },
      );
      expect(predict.errors).toBeUndefined();
      predictions.forEach((p, i) => {
        expect(p.value).toBeCloseTo(predict.data!.predict.predictions[i]!, 9);
        expect(p.value).toBeCloseTo(3 * fresh[i]! + 2, 1);
      });

      // The facts: caused by the sample batch, on behalf of who sent it.
      const fact = await service.events.readAt(BigInt(items[0]!.position));
      expect(fact?.streamId).toBe('predictions-live-y');
      expect(fact?.metadata).toMatchObject({ principal: 'system:scorer' });
      expect(fact?.metadata.sourcePosition).toMatch(/^\d+$/);
      const source = await service.events.readAt(BigInt(String(fact!.metadata.sourcePosition)));
      expect(source?.type).toBe('batchFlushed');
      expect(fact?.metadata.causationId).toBe(source!.id);

      // Projected: the predictions query finds them by model and by attachment.
      await settle(service);
      for (const arg of [`modelId: "${modelId}"`, 'attachmentId: "live-y"']) {
        const stored = await gql<{
          predictions: { edges: { node: { ts: string; value: number; version: number } }[] };
        }>(
          service.url,
          `query ($from: DateTime!, $to: DateTime!) { predictions(${arg}, from: $from, to: $to) {
            edges { node { attachmentId modelId version seriesId ts value } } } }`,
          { from: new Date(T1).toISOString(), to: new Date(T1 + 60_000).toISOString() },
        );
        expect(stored.errors).toBeUndefined();
        expect(stored.data!.predictions.edges.map((e) => e.node.value)).toEqual(
          predictions.map((p) => p.value),
        );
      }

      // Detached: it scores no more.
      const detach = await gql(
        service.url,
        'mutation { detachModel(id: "live-y") { ... on ModelAttachment { id detachedAt } ... on Error { code message } } }',
      );
      expect(detach.data).toMatchObject({ detachModel: { id: 'live-y' } });
      expect(made.errors).toEqual([]);
    } finally {
      made.dispose();
      await client.dispose();
    }
  }, 120_000);
});
