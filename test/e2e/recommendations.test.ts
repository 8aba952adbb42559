import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;

const gauge = (name: string, ts: number, value: number) => ({
  name,
  labels: [{ name: 'svc', value: 'api' }],
  kind: 'gauge',
  value,
  timestamp: new Date(ts).toISOString(),
});
const sel = (name: string) => ({ name, matchers: [{ label: 'svc', value: 'api' }] });

/** The systems behind the series: latency falls with replicas and rises with batch; cost follows replicas. */
const latencyOf = (batch: number, replicas: number) => 100 + 4 * batch - 10 * replicas;
const costOf = (replicas: number) => 5 * replicas + 2;

interface Outcome {
  appliedAt: string;
  settings: number[];
  improved: boolean | null;
  outcomes: { name: string; before: number; after: number; improved: boolean }[];
}

interface Candidate {
  settings: number[];
  predicted: number[];
}

describe('recommendations through the API', () => {
  let service: Service & { url: string };
  const T0 = Math.floor((Date.now() - 900_000) / 1000) * 1000;

  beforeAll(async () => {
    service = await startService({ LEARNING_WORKERS: '1' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  async function deployed(modelId: string, series: string[], target: string): Promise<void> {
    const dataset = {
      fromSeries: {
        series: series.map(sel),
        from: new Date(T0).toISOString(),
        to: new Date(T0 + 200_000).toISOString(),
        stepMs: 1000,
        target: { series: sel(target), horizonSteps: 0 },
      },
    };
    const registered = await gql<{ registerModel: { state?: string; message?: string } }>(
      service.url,
      `mutation ($modelId: String!, $input: RegisterModelInput!) { registerModel(modelId: $modelId, input: $input, id: "r") { ... on Model { state } ... on Error { message } } }`,
      {
        modelId,
        input: {
          name: modelId,
          algorithm: 'linearRegression',
          task: 'regression',
          dataset,
          testFraction: 0.25,
        },
      },
    );
    expect(registered.data!.registerModel).toEqual({ state: 'registered' });
    const trained = await gql<{ trainModel: { state?: string; message?: string } }>(
      service.url,
      `mutation ($modelId: String!) { trainModel(modelId: $modelId, input: { params: { ridgeAlpha: 0 } }, id: "t") { ... on Model { state } ... on Error { message } } }`,
      { modelId },
    );
    expect(trained.data!.trainModel).toEqual({ state: 'training' });
    for (let i = 0; ; i++) {
      const m = await gql<{ model: { state: string; lastFailure: string | null } }>(
        service.url,
        'query ($id: String!) { model(id: $id) { state lastFailure } }',
        { id: modelId },
      );
      if (m.data!.model.state === 'trained') break;
      if (m.data!.model.state === 'failed' || i > 600)
        throw new Error(`training: ${m.data!.model.lastFailure}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const promoted = await gql<{ promoteModel: { state?: string } }>(
      service.url,
      `mutation ($modelId: String!) { promoteModel(modelId: $modelId, version: 1, id: "p") { ... on Model { state } ... on Error { message } } }`,
      { modelId },
    );
    expect(promoted.data!.promoteModel).toEqual({ state: 'deployed' });
  }

  const predict = async (modelId: string, rows: number[][]) =>
    (
      await gql<{ predict: { predictions: number[] } }>(
        service.url,
        'query ($id: String!, $rows: [[Float!]!]) { predict(modelId: $id, rows: $rows) { predictions } }',
        { id: modelId, rows },
      )
    ).data!.predict.predictions;

  it('recommends a Pareto front equal to a brute-force enumeration, and scores it once applied', async () => {
    // History: the parameters vary, the objectives follow them.
    const history = Array.from({ length: 220 }, (_, i) => {
      const ts = T0 + i * 1000;
      const batch = 1 + (i % 5);
      const replicas = 1 + (Math.floor(i / 5) % 4);
      return [
        gauge('batch', ts, batch),
        gauge('replicas', ts, replicas),
        gauge('latency', ts, latencyOf(batch, replicas)),
        gauge('cost', ts, costOf(replicas)),
      ];
    }).flat();
    expect((await gql(service.url, INGEST, { samples: history })).errors).toBeUndefined();
    await settle(service);
    await deployed('latency-model', ['batch', 'replicas'], 'latency');
    await deployed('cost-model', ['replicas'], 'cost');

    // The recent past, before any recommendation: batch 4 and 1 replica.
    const recent = Date.now();
    const before = Array.from({ length: 19 }, (_, i) => {
      const ts = recent - 1900 + i * 100;
      return [
        gauge('batch', ts, 4),
        gauge('replicas', ts, 1),
        gauge('latency', ts, latencyOf(4, 1)),
        gauge('cost', ts, costOf(1)),
      ];
    }).flat();
    expect((await gql(service.url, INGEST, { samples: before })).errors).toBeUndefined();
    await settle(service);

    const client = wsClient(service.url);
    const madeFeed = collect<{ id: string; front: Candidate[] }>(
      client,
      'subscription { recommendationMade { id front { settings } } }',
    );
    const scoredFeed = collect<{
      recommendationId: string;
      outcomes: { name: string; before: number; after: number }[];
    }>(
      client,
      'subscription { recommendationScored { recommendationId improved outcomes { name before after } } }',
    );
    await new Promise((r) => setTimeout(r, 300));

    const RECOMMEND = `mutation ($id: String!, $input: RecommendInput!) { recommend(id: $id, input: $input) {
      ... on Recommendation { id madeAt candidatesEvaluated feasible parameters { name seriesId }
        objectives { name modelId version features } best { settings predicted } front { settings predicted } }
      ... on Error { __typename message } } }`;
    const input = {
      parameters: [
        { name: 'batch', selector: sel('batch'), values: [1, 2, 4] },
        { name: 'replicas', selector: sel('replicas'), min: 1, max: 4, step: 1 },
      ],
      objectives: [
        { name: 'latency', modelId: 'latency-model', selector: sel('latency') },
        { name: 'cost', modelId: 'cost-model', selector: sel('cost'), features: ['replicas'] },
      ],
      constraints: [{ on: 'latency', op: 'le', value: 200 }],
      tolerance: 0.01,
      windowMs: 5000,
    };
    const made = await gql<{
      recommend: {
        id: string;
        madeAt: string;
        candidatesEvaluated: number;
        feasible: number;
        objectives: { version: number }[];
        best: Candidate | null;
        front: Candidate[];
      };
    }>(service.url, RECOMMEND, { id: 'scale-1', input });
    expect(made.errors).toBeUndefined();
    const rec = made.data!.recommend;
    expect(rec).toMatchObject({ id: 'scale-1', candidatesEvaluated: 12, feasible: 12, best: null });
    expect(rec.objectives.map((o) => o.version)).toEqual([1, 1]);

    // Brute force: every grid setting predicted by both models, the non-dominated ones kept.
    const settings = [1, 2, 4].flatMap((b) => [1, 2, 3, 4].map((r) => [b, r]));
    const latency = await predict('latency-model', settings);
    const cost = await predict(
      'cost-model',
      settings.map(([, r]) => [r!]),
    );
    const all = settings.map((s, i) => ({ settings: s, predicted: [latency[i]!, cost[i]!] }));
    const dominated = (c: Candidate) =>
      all.some(
        (o) =>
          o.predicted[0]! <= c.predicted[0]! &&
          o.predicted[1]! <= c.predicted[1]! &&
          (o.predicted[0]! < c.predicted[0]! || o.predicted[1]! < c.predicted[1]!),
      );
    const expected = all.filter((c) => !dominated(c));
    const keyOf = (c: Candidate) => c.settings.join(',');
    expect(rec.front.map(keyOf).sort()).toEqual(expected.map(keyOf).sort());
    expect(rec.front.map(keyOf).sort()).toEqual(['1,1', '1,2', '1,3', '1,4']);
    for (const c of rec.front) {
      const e = expected.find((x) => keyOf(x) === keyOf(c))!;
      expect(c.predicted[0]).toBeCloseTo(e.predicted[0]!, 6);
      expect(c.predicted[1]).toBeCloseTo(e.predicted[1]!, 6);
      expect(c.predicted[0]).toBeCloseTo(latencyOf(c.settings[0]!, c.settings[1]!), 3);
    }

    // The same id again: the recorded recommendation, not a new one.
    const again = await gql<{ recommend: { madeAt: string } }>(service.url, RECOMMEND, {
      id: 'scale-1',
      input,
    });
    expect(again.data!.recommend.madeAt).toBe(rec.madeAt);

    // Apply batch 1 and 3 replicas just after the recommendation, and measure what follows.
    const madeAt = Date.parse(rec.madeAt);
    while (Date.now() < madeAt + 5600) await new Promise((r) => setTimeout(r, 100));
    const after = Array.from({ length: 20 }, (_, i) => {
      const ts = madeAt + 200 + i * 200;
      return [
        gauge('batch', ts, 1),
        gauge('replicas', ts, 3),
        gauge('latency', ts, latencyOf(1, 3)),
        gauge('cost', ts, costOf(3)),
      ];
    }).flat();
    expect((await gql(service.url, INGEST, { samples: after })).errors).toBeUndefined();
    await settle(service);

    const QUERY = `query { recommendation(id: "scale-1") { id outcome { appliedAt settings improved outcomes { name before after improved } } } }`;
    let outcome: Outcome | null = null;
    for (let i = 0; i < 100 && !outcome; i++) {
      await service.recommender.tick();
      const found = await gql<{ recommendation: { outcome: Outcome | null } }>(service.url, QUERY);
      outcome = found.data!.recommendation.outcome;
      if (!outcome) await new Promise((r) => setTimeout(r, 100));
    }
    expect(outcome).not.toBeNull();
    expect(outcome!.settings).toEqual([1, 3]);
    expect(Date.parse(outcome!.appliedAt)).toBe(madeAt + 200);
    expect(outcome!.outcomes).toEqual([
      { name: 'latency', before: latencyOf(4, 1), after: latencyOf(1, 3), improved: true },
      { name: 'cost', before: costOf(1), after: costOf(3), improved: false },
    ]);
    expect(outcome!.improved).toBe(false);

    // Both facts reached the subscribers too.
    await madeFeed.until((items) => items.length === 1);
    expect(madeFeed.items[0]!.id).toBe('scale-1');
    await scoredFeed.until((items) => items.length === 1);
    expect(scoredFeed.items[0]).toMatchObject({
      recommendationId: 'scale-1',
      outcomes: [
        { name: 'latency', before: latencyOf(4, 1), after: latencyOf(1, 3) },
        { name: 'cost', before: costOf(1), after: costOf(3) },
      ],
    });
    madeFeed.dispose();
    scoredFeed.dispose();
    await client.dispose();

    const list = await gql<{ recommendations: { edges: { node: { id: string } }[] } }>(
      service.url,
      'query { recommendations(first: 10) { edges { node { id } } } }',
    );
    expect(list.data!.recommendations.edges.map((e) => e.node.id)).toEqual(['scale-1']);
  }, 180_000);
});
