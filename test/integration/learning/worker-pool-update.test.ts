import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { createRandom } from '../../../src/domain/random.js';
import { FeaturePipelineSpec } from '../../../src/learning/features/pipeline-spec.js';
import { createLearningPool, type LearningPool } from '../../../src/learning/pool/pool.js';
import { packData } from '../../../src/learning/pool/wire.js';
import { updateModel } from '../../../src/learning/registry.js';

function dataset(n: number, seed: number, shift: number) {
  const random = createRandom(seed);
  const features = Array.from({ length: n }, () => [random.next(), random.next()]);
  return { features, target: features.map((r) => 2 * r[0]! - r[1]! + shift) };
}

describe('the learning worker pool runs update jobs', () => {
  let pool: LearningPool | null = null;
  afterEach(async () => {
    await pool?.close();
    pool = null;
  });

  it('fits then updates in a worker: the same model as an update on this thread; errors come back typed', async () => {
    pool = createLearningPool({ size: 1, queueMax: 2 });
    const fit = await pool.run<'fit'>({
      kind: 'fit',
      data: packData(dataset(100, 1, 0)),
      spec: { algorithm: 'linearRegression', task: 'regression' },
      features: FeaturePipelineSpec.parse({}),
    });
    const batch = dataset(50, 2, 1);
    const data = packData(batch);
    const updated = await pool.run<'update'>(
      { kind: 'update', model: fit.model, features: null, data, options: { learningRate: 0.2 } },
      [data.x.values.buffer as ArrayBuffer, data.target.buffer as ArrayBuffer],
    );
    expect(data.x.values.byteLength).toBe(0); // transferred, not copied
    expect(updated.model).toEqual(updateModel(fit.model, batch, { learningRate: 0.2 }).serialize());
    expect(updated.features).toEqual(fit.features);
    await expect(
      pool.run<'update'>({
        kind: 'update',
        model: fit.model,
        features: null,
        data: packData(batch),
        options: { learningRate: 3 },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(pool.status()).toMatchObject({ done: 2, failed: 1, crashed: 0 });
  });
});
