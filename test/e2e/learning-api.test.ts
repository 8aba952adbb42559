import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/domain/random.js';
import { bearer } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { collect, createKey, gql, wsClient } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;

const EVALUATE = `mutation ($input: EvaluateModelInput!) {
  evaluateModel(input: $input) {
    __typename
    ... on ModelEvaluation {
      algorithm implementation method rows trainMs queuedMs runMs
      folds { fold trainRows testRows trainMs metrics { name value } }
      mean { name value }
      featureImportance { name importance }
      confusionMatrix { classes counts }
    }
    ... on Error { code message }
    ... on ValidationError { issues { field reason } }
    ... on PoolFullError { busy queued }
  }
}`;

interface Metric {
  name: string;
  value: number | null;
}
interface Evaluation {
  __typename: string;
  code?: string;
  message?: string;
  issues?: { field: string; reason: string }[];
  rows?: number;
  folds?: { fold: number; trainRows: number; testRows: number; metrics: Metric[] }[];
  mean?: Metric[];
  featureImportance?: { name: string; importance: number }[];
  confusionMatrix?: { classes: number[]; counts: number[][] };
  runMs?: number;
}
interface Healthz {
  learningPool: { size: number; busy: number; queued: number; done: number; failed: number };
}

/** One sample a second of `cpu{host=a}` from `start`, a spike of 99 at index `spikeAt`. */
const cpu = (start: number, from: number, count: number, spikeAt?: number) =>
  Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      name: 'cpu',
      labels: [{ name: 'host', value: 'a' }],
      kind: 'gauge',
      value: i === spikeAt ? 99 : 40 + Math.sin(i) * 2,
      timestamp: new Date(start + i * 1000).toISOString(),
    };
  });

/** n rows of 20 features; the class depends on three of them (and a little noise). */
function inlineDataset(n: number, seed: number) {
  const random = createRandom(seed);
  const features = Array.from({ length: n }, () =>
    Array.from({ length: 20 }, () => Math.round(random.next() * 1e4) / 1e4),
  );
  const target = features.map((f) => (f[0]! + 2 * f[1]! - f[2]! + 0.3 * random.next() > 1.2 ? 1 : 0));
  return { features, target, featureNames: features[0]!.map((_, j) => `f${j}`) };
}

const metric = (list: Metric[] | undefined, name: string) => list?.find((m) => m.name === name)?.value;

describe('the learning API in the running service', () => {
  let service: Service & { url: string };
  let client: Client;
  const T0 = Date.now() - 600_000;

  beforeAll(async () => {
    const pipelines = join(tempDir('learn-'), 'pipelines.json');
    writeFileSync(
      pipelines,
      JSON.stringify([
        {
          id: 'detect',
          route: [{ name: 'cpu' }],
          quality: { allowedLatenessMs: 0, requiredLabels: [] },
          analytics: { minAnomalyScore: 0.5 },
        },
      ]),
    );
    service = await startService({
      PIPELINES_FILE: pipelines,
      LEARNING_WORKERS: '1',
      // No waiting room: a second job while the forest trains is refused at once.
      LEARNING_QUEUE_MAX: '0',
      GRAPHQL_MAX_BODY_BYTES: String(8 * 1024 * 1024),
    });
    client = wsClient(service.url);
  });

  afterAll(async () => {
    await client?.dispose();
    await service?.stop();
  });

  it('trains a random forest (5,000 × 20, 5-fold) in the pool while /healthz answers and a live anomaly arrives', async () => {
    const anomalies = collect<{ name: string; value: number; position: string }>(
      client,
      'subscription { anomalyDetected(after: "0", minScore: 0.5) { name value position } }',
    );
    expect(await gql(service.url, INGEST, { samples: cpu(T0, 0, 100) })).toEqual({
      data: { ingestMetrics: { accepted: 100 } },
    });

    const data = inlineDataset(5000, 42);
    const input = {
      algorithm: 'randomForest',
      task: 'classification',
      params: { nEstimators: 200 },
      dataset: { inline: data },
      evaluation: { method: 'KFOLD', folds: 5, seed: 7 },
    };
    const started = performance.now();
    let trainingDone = false;
    const training = gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, { input }).finally(() => {
      trainingDone = true;
    });

    // /healthz every 50 ms until the forest is trained: its answer says whether the job is running.
    const polls: { ms: number; busy: number }[] = [];
    const polling = (async () => {
      while (!trainingDone) {
        const t = performance.now();
        const body = (await (await fetch(`${service.url}/healthz`)).json()) as Healthz;
        polls.push({ ms: performance.now() - t, busy: body.learningPool.busy });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    while (!polls.some((p) => p.busy === 1)) await new Promise((r) => setTimeout(r, 10));

    // While it trains: a second job is refused (typed), and a spike is ingested and detected live.
    const refused = await gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, {
      input: { ...input, dataset: { inline: inlineDataset(50, 1) } },
    });
    expect(refused.data?.evaluateModel).toMatchObject({
      __typename: 'PoolFullError',
      code: 'POOL_FULL',
      busy: 1,
      queued: 0,
    });
    await gql(service.url, INGEST, { samples: cpu(T0, 100, 50, 120) });
    const [spike] = await anomalies.until((a) => a.length >= 1);
    expect(spike).toMatchObject({ name: 'cpu', value: 99 });
    const anomalyWhileTraining = !trainingDone;

    const result = await training;
    const trainingMs = performance.now() - started;
    await polling;
    anomalies.dispose();

    const evaluation = result.data!.evaluateModel;
    expect(evaluation).toMatchObject({ __typename: 'ModelEvaluation', rows: 5000 });
    expect(evaluation.folds!.map((f) => [f.trainRows, f.testRows])).toEqual(Array(5).fill([4000, 1000]));
    expect(metric(evaluation.mean, 'accuracy')).toBeGreaterThan(0.85);
    expect(metric(evaluation.mean, 'rocAuc')).toBeGreaterThan(0.9);
    expect(evaluation.confusionMatrix!.classes).toEqual([0, 1]);
    expect(evaluation.confusionMatrix!.counts.flat().reduce((a, v) => a + v, 0)).toBe(5000);
    expect(
      evaluation
        .featureImportance!.slice(0, 3)
        .map((f) => f.name)
        .sort(),
    ).toEqual(['f0', 'f1', 'f2']);

    const during = polls.filter((p) => p.busy === 1);
    const slowest = Math.max(...during.map((p) => p.ms));
    console.info(
      `forest: ${Math.round(trainingMs)} ms end to end (${Math.round(evaluation.runMs!)} ms in the worker); ` +
        `/healthz answered ${during.length} times while it trained, slowest ${slowest.toFixed(1)} ms, ` +
        `median ${during
          .map((p) => p.ms)
          .sort((a, b) => a - b)
          [Math.floor(during.length / 2)]!.toFixed(1)} ms`,
    );
    expect(anomalyWhileTraining).toBe(true);
    expect(during.length).toBeGreaterThan(5);
    expect(slowest).toBeLessThan(200);
    const health = (await (await fetch(`${service.url}/healthz`)).json()) as Healthz;
    expect(health.learningPool).toMatchObject({ size: 1, busy: 0, queued: 0, done: 1, failed: 0 });
  }, 120_000);

  it('previews a dataset built from the stored series, labelled by the anomaly it holds', async () => {
    const preview = await gql<{ dataset: Record<string, unknown> }>(
      service.url,
      `query ($spec: DatasetInput!) {
        dataset(spec: $spec, limit: 3) {
          featureNames rows times target targetKind candidates rowsKept rowsDropped
          dropped { missingInputs missingTarget labelUnknown } labelBalance { label count }
          series { column seriesId }
        }
      }`,
      {
        spec: {
          fromSeries: {
            // The raw series (the pipeline also writes `cpu{host=a,pipeline=detect}`).
            series: [{ name: 'cpu', matchers: [{ label: 'pipeline', value: '' }] }],
            from: new Date(T0).toISOString(),
            to: new Date(T0 + 150_000).toISOString(),
            stepMs: 10_000,
            lags: [1],
            label: { kind: 'ANOMALY', horizonMs: 30_000 },
          },
        },
      },
    );
    expect(preview.errors).toBeUndefined();
    const d = preview.data!.dataset;
    expect(d.featureNames).toEqual(['cpu{host=a}', 'cpu{host=a}_lag1']);
    expect(d.targetKind).toBe('label');
    expect((d.rows as number[][]).length).toBe(3);
    expect((d.rowsKept as number) + (d.rowsDropped as number)).toBe(d.candidates);
    // The spike at 120 s labels the rows whose next 30 s hold it: those at 100 and 110 s (and 90 s, as
    // a bucket's row stands for its end); the lag drops the first bucket.
    expect(d.labelBalance).toEqual([
      { label: 0, count: (d.rowsKept as number) - 3 },
      { label: 1, count: 3 },
    ]);
  });

  it('answers typed errors naming the field; a viewer may not evaluate', async () => {
    const small = inlineDataset(60, 3);
    const bad = await gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, {
      input: {
        algorithm: 'randomForest',
        task: 'classification',
        params: { nEstimators: 0 },
        features: { select: [{ kind: 'correlation' }] },
        dataset: { inline: small },
        evaluation: { method: 'HOLDOUT' },
      },
    });
    expect(bad.data?.evaluateModel).toMatchObject({
      __typename: 'ValidationError',
      issues: [{ field: 'input.features.select.0.topK', reason: 'give topK, threshold, or both' }],
    });
    const params = await gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, {
      input: {
        algorithm: 'randomForest',
        task: 'classification',
        params: { nEstimators: 0 },
        dataset: { inline: small },
        evaluation: { method: 'HOLDOUT', testFraction: 0.25 },
      },
    });
    expect(params.data?.evaluateModel).toMatchObject({ __typename: 'ValidationError' });
    expect(params.data?.evaluateModel.issues?.[0]?.field).toBe('input.params.nEstimators');
    const ragged = await gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, {
      input: {
        algorithm: 'logisticRegression',
        task: 'classification',
        dataset: { inline: { features: [[1, 2], [3]], target: [0, 1] } },
        evaluation: { method: 'KFOLD', folds: 2 },
      },
    });
    expect(ragged.data?.evaluateModel.issues).toEqual([
      {
        field: 'input.dataset.inline.features.1',
        reason: 'has 1 values, row 0 has 2: every row must be as wide',
      },
    ]);

    const viewer = await createKey(service.url, 'vera', 'viewer');
    const refused = await gql<{ evaluateModel: Evaluation }>(
      service.url,
      EVALUATE,
      {
        input: {
          algorithm: 'logisticRegression',
          task: 'classification',
          dataset: { inline: small },
          evaluation: { method: 'HOLDOUT' },
        },
      },
      bearer(viewer.key),
    );
    expect(refused.data?.evaluateModel).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    // A viewer may preview a dataset.
    const preview = await gql<{
      dataset: { rowsKept: number; labelBalance: { label: number; count: number }[] };
    }>(
      service.url,
      'query ($spec: DatasetInput!) { dataset(spec: $spec) { rowsKept labelBalance { label count } } }',
      { spec: { inline: small } },
      bearer(viewer.key),
    );
    expect(preview.data?.dataset.rowsKept).toBe(60);
  });

  it('groups operational states with k-means, judged on held-out rows', async () => {
    const random = createRandom(9);
    // Two states of a component: idle (low CPU, low latency) and busy (high, high).
    const features = Array.from({ length: 120 }, (_, i) =>
      i % 2 === 0 ? [5 + random.next(), 20 + random.next()] : [80 + random.next(), 300 + random.next()],
    );
    const answer = await gql<{ evaluateModel: Evaluation }>(service.url, EVALUATE, {
      input: {
        algorithm: 'kMeans',
        task: 'clustering',
        params: { k: 2 },
        dataset: { inline: { features, featureNames: ['cpu', 'latency'] } },
        evaluation: { method: 'KFOLD', folds: 3 },
      },
    });
    expect(answer.data?.evaluateModel.__typename).toBe('ModelEvaluation');
    expect(metric(answer.data?.evaluateModel.mean, 'clusters')).toBe(2);
    expect(metric(answer.data?.evaluateModel.mean, 'silhouette')).toBeGreaterThan(0.9);
  });
});
