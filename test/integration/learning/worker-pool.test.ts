import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { createRandom } from '../../../src/domain/random.js';
import { FeaturePipelineSpec } from '../../../src/learning/features/pipeline-spec.js';
import { JobCancelledError, PoolFullError, WorkerCrashedError } from '../../../src/learning/pool/errors.js';
import {
  createLearningPool,
  type LearningPool,
  workerExecArgv,
  workerStart,
} from '../../../src/learning/pool/pool.js';
import { packData, packRows } from '../../../src/learning/pool/wire.js';
import { loadModel } from '../../../src/learning/registry.js';

const CRASHING = new URL('../../support/learning-crash-worker.ts', import.meta.url);

function dataset(n: number, p: number, seed: number) {
  const random = createRandom(seed);
  const features = Array.from({ length: n }, () => Array.from({ length: p }, () => random.next()));
  return { features, target: features.map((r) => (r[0]! + r[1]! > 1 ? 1 : 0)) };
}

const noFeatures = FeaturePipelineSpec.parse({});
const forest = {
  algorithm: 'randomForest',
  task: 'classification',
  seed: 1,
  params: { nEstimators: 10 },
} as const;

describe('the learning worker pool (worker threads loading TypeScript under the test runner)', () => {
  let pool: LearningPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('starts a .ts worker through the tsx bootstrap, without a tsx loader of the process', () => {
    expect(workerExecArgv(['--import', 'tsx', '--conditions', 'node', '--import=tsx'])).toEqual([
      '--conditions',
      'node',
    ]);
    const ts = workerStart(new URL('file:///x/worker.ts'));
    expect(ts.file.pathname).toMatch(/src\/learning\/pool\/tsx-worker\.mjs$/);
    expect(ts.workerData).toEqual({ entry: 'file:///x/worker.ts' });
    expect(workerStart(new URL('file:///x/worker.js'))).toEqual({ file: new URL('file:///x/worker.js') });
  });

  it('fits, evaluates and predicts in workers; the serialised model predicts the same when loaded here', async () => {
    pool = createLearningPool({ size: 2, queueMax: 4 });
    const data = dataset(300, 4, 7);
    const fit = await pool.run<'fit'>({
      kind: 'fit',
      data: packData(data),
      spec: forest,
      features: noFeatures,
    });
    expect(fit.model).toMatchObject({ format: 1, algorithm: 'randomForest', featureCount: 4 });
    expect(fit.featureImportance).toHaveLength(4);
    const rows = packRows(data.features.slice(0, 50));
    const { predictions } = await pool.run<'predict'>(
      { kind: 'predict', model: fit.model, features: null, rows },
      [rows.values.buffer as ArrayBuffer],
    );
    expect(rows.values.byteLength).toBe(0); // transferred, not copied
    expect([...predictions]).toEqual(loadModel(fit.model).predict(data.features.slice(0, 50)));
    const report = await pool.run<'evaluate'>({
      kind: 'evaluate',
      data: packData(data),
      spec: forest,
      features: noFeatures,
      evaluation: { method: 'kfold', folds: 3, testFraction: 0.2, seed: 1 },
    });
    expect(report.folds).toHaveLength(3);
    expect(report.mean.accuracy).toBeGreaterThan(0.8);
    expect(pool.status()).toMatchObject({ size: 2, busy: 0, queued: 0, done: 3, failed: 0, crashed: 0 });
  });

  it('a full queue refuses at once with POOL_FULL; a job error comes back typed', async () => {
    pool = createLearningPool({ size: 1, queueMax: 1 });
    const job = {
      kind: 'fit',
      data: packData(dataset(200, 3, 1)),
      spec: forest,
      features: noFeatures,
    } as const;
    const running = pool.run<'fit'>(job);
    const queued = pool.run<'fit'>(job);
    expect(pool.status()).toMatchObject({ busy: 1, queued: 1 });
    const refused = pool.run<'fit'>(job);
    await expect(refused).rejects.toBeInstanceOf(PoolFullError);
    await expect(refused).rejects.toMatchObject({ code: 'POOL_FULL', busy: 1, queued: 1 });
    await Promise.all([running, queued]);
    const bad = pool.run<'fit'>({ ...job, spec: { ...forest, params: { nEstimators: 0 } } });
    await expect(bad).rejects.toBeInstanceOf(ValidationError);
    await expect(bad).rejects.toMatchObject({ issues: [{ path: 'params.nEstimators' }] });
    expect(pool.status()).toMatchObject({ done: 2, failed: 1, refused: 1 });
  });

  it('a worker that exits or throws fails its job clearly and is replaced; the queue goes on', async () => {
    pool = createLearningPool({ size: 1, queueMax: 4, workerUrl: CRASHING });
    const model = (
      await pool.run<'fit'>({
        kind: 'fit',
        data: packData(dataset(100, 2, 3)),
        spec: forest,
        features: noFeatures,
      })
    ).model;
    const exits = pool.run<'predict'>({ kind: 'predict', model, features: null, rows: packRows([]) });
    const next = pool.run<'predict'>({
      kind: 'predict',
      model,
      features: null,
      rows: packRows([[0.9, 0.9]]),
    });
    await expect(exits).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(exits).rejects.toThrow(/running this predict job exited \(code 3\).*replaced/);
    expect([...(await next).predictions]).toEqual([1]);
    const throws = pool.run<'predict'>({
      kind: 'predict',
      model,
      features: null,
      rows: { rows: 1, cols: 0, values: new Float64Array(0) },
    });
    await expect(throws).rejects.toThrow(/exited \(code 1\): boom: an uncaught error in the worker/);
    expect([
      ...(await pool.run<'predict'>({ kind: 'predict', model, features: null, rows: packRows([[0, 0]]) }))
        .predictions,
    ]).toEqual([0]);
    expect(pool.status()).toMatchObject({ done: 3, crashed: 2, failed: 2, busy: 0 });
  });

  it('gives a job up on its signal: out of the queue, or its worker stopped and replaced while it runs', async () => {
    pool = createLearningPool({ size: 1, queueMax: 4 });
    const slow = {
      kind: 'fit',
      data: packData(dataset(3000, 8, 5)),
      spec: { ...forest, params: { nEstimators: 400 } },
      features: noFeatures,
    } as const;
    const running = new AbortController();
    const waiting = new AbortController();
    let started = false;
    const first = pool.run<'fit'>(
      slow,
      [],
      () => {
        started = true;
      },
      running.signal,
    );
    const second = pool.run<'fit'>(slow, [], undefined, waiting.signal);
    expect(pool.status()).toMatchObject({ busy: 1, queued: 1 });
    waiting.abort(new Error('cancelled by an admin'));
    await expect(second).rejects.toBeInstanceOf(JobCancelledError);
    await expect(second).rejects.toThrow(/given up: cancelled by an admin/);
    expect(pool.status()).toMatchObject({ busy: 1, queued: 0 });
    expect(started).toBe(true);
    const stoppedAt = Date.now();
    running.abort(new Error('timed out after 50 ms'));
    await expect(first).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    // Its worker is free at once (replaced), not when the fit would have ended.
    expect(pool.status()).toMatchObject({ busy: 0, cancelled: 2, crashed: 0 });
    const quick = await pool.run<'fit'>({ ...slow, data: packData(dataset(100, 2, 6)), spec: forest });
    expect(quick.model.algorithm).toBe('randomForest');
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    await expect(pool.run<'fit'>(slow, [], undefined, AbortSignal.abort('gone'))).rejects.toThrow(
      /given up: gone/,
    );
    expect(pool.status()).toMatchObject({ crashed: 0, busy: 0, done: 1 });
  });

  it('closing fails what waits and what runs', async () => {
    pool = createLearningPool({ size: 1, queueMax: 2 });
    const job = {
      kind: 'fit',
      data: packData(dataset(2000, 8, 1)),
      spec: forest,
      features: noFeatures,
    } as const;
    const outcomes = Promise.allSettled([pool.run<'fit'>(job), pool.run<'fit'>(job)]);
    await pool.close();
    expect(
      (await outcomes).map((o) => o.status === 'rejected' && (o.reason as { code: string }).code),
    ).toEqual(['POOL_CLOSED', 'POOL_CLOSED']);
    await expect(pool.run<'fit'>(job)).rejects.toMatchObject({ code: 'POOL_CLOSED' });
  });
});
