import { describe, expect, it } from 'vitest';
import { LearningPipelineDefinition, TaskSpec } from '../../../src/domain/learning-pipeline/definition.js';
import type { TaskDeps } from '../../../src/learning-pipelines/tasks/deps.js';
import { createTaskRunner } from '../../../src/learning-pipelines/tasks/index.js';

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
});
