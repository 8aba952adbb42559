import { describe, expect, it } from 'vitest';
import { LearningPipelineDefinition, TaskSpec } from '../../../src/domain/learning-pipeline/definition.js';
import { createLearningPool } from '../../../src/learning/pool/pool.js';
import { createBlobStore } from '../../../src/learning-pipelines/blobs.js';
import type { TaskDeps } from '../../../src/learning-pipelines/tasks/deps.js';
import { createTaskRunner } from '../../../src/learning-pipelines/tasks/index.js';
import { tempDir } from '../../support/fixtures.js';

const unreachable = () => {
  throw new Error('a task given up on touches nothing');
};

describe('the task runner', () => {
  it('fails a task the process died during more times in a row than its retries, without running it', async () => {
    const deps = {
      get analytics() {
        return unreachable();
      },
      get pool() {
        return unreachable();
      },
      get artifacts() {
        return unreachable();
      },
      get blobs() {
        return unreachable();
      },
      get models() {
        return unreachable();
      },
      host: unreachable,
      now: () => 1_000,
    } as unknown as TaskDeps;
    const run = createTaskRunner(deps);
    const task = TaskSpec.parse({ id: 'train', kind: 'train', retries: 2 });
    const definition = LearningPipelineDefinition.parse({
      modelId: 'm',
      windowMs: 60_000,
      dataset: { series: [{ name: 'x' }], stepMs: 1000 },
      training: { algorithm: 'linearRegression', task: 'regression' },
    });
    const out = await run(
      {
        pipelineId: 'p',
        run: 1,
        task,
        attempt: 1,
        interrupted: 3,
        window: { from: 0, to: 1 },
        definition,
        inputs: {},
      },
      new AbortController().signal,
    );
    expect(out).toEqual({
      type: 'taskFailed',
      run: 1,
      task: 'train',
      attempt: 1,
      at: 1_000,
      error: 'the process stopped during this task 3 times in a row',
    });
  });

  it('gives up an attempt paused while its start was being recorded: its fit never takes a worker', async () => {
    const pool = createLearningPool({ size: 1 });
    const blobs = createBlobStore(tempDir());
    const rows = Array.from({ length: 300 }, (_, i) => [i % 17, (i * 7) % 13]);
    const features = blobs.save({
      features: rows,
      target: rows.map(([a, b]) => a! + 2 * b!),
      featureNames: ['a', 'b'],
    });
    const pause = new AbortController();
    const deps = {
      blobs,
      pool,
      get analytics() {
        return unreachable();
      },
      get artifacts() {
        return unreachable();
      },
      get models() {
        return unreachable();
      },
      // The pause comes while the start is being recorded.
      host: () => ({
        send: async () => {
          pause.abort(new Error('paused by an operator'));
        },
      }),
      now: () => 1_000,
    } as unknown as TaskDeps;
    try {
      const out = await createTaskRunner(deps)(
        {
          pipelineId: 'p',
          run: 1,
          task: TaskSpec.parse({ id: 'train', kind: 'train' }),
          attempt: 1,
          interrupted: 0,
          window: { from: 0, to: 1 },
          definition: LearningPipelineDefinition.parse({
            modelId: 'm',
            windowMs: 60_000,
            dataset: { series: [{ name: 'x' }], stepMs: 1000 },
            training: { algorithm: 'linearRegression', task: 'regression' },
          }),
          inputs: { features: { blob: features } },
        },
        pause.signal,
      );
      expect(out).toMatchObject({
        type: 'taskFailed',
        error: expect.stringMatching(/given up: paused by an operator/),
      });
      expect(pool.status()).toMatchObject({ cancelled: 1, done: 0, busy: 0 });
    } finally {
      await pool.close();
    }
  });
});
