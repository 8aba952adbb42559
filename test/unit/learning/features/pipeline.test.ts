import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/domain/errors.js';
import { fitFeatures, transform } from '../../../../src/learning/features/pipeline.js';
import {
  type FeaturePipelineInput,
  FeaturePipelineSpec,
} from '../../../../src/learning/features/pipeline-spec.js';

const train = {
  features: [
    [1, 10, 0.5],
    [3, 10, -0.5],
    [5, 10, 0.25],
  ],
  target: [0, 1, 1],
  featureNames: ['a', 'b', 'c'],
};
const spec = (input: FeaturePipelineInput) => FeaturePipelineSpec.parse(input);
const fitWith = (input: FeaturePipelineInput) =>
  fitFeatures(train, spec(input), { task: 'classification', seed: 1 });

describe('feature pipelines, fitted on training rows only', () => {
  it('standardises with the training mean and standard deviation (a constant feature divides by 1)', () => {
    const fitted = fitWith({ scale: 'standard' });
    expect(fitted.scaler).toEqual({
      kind: 'standard',
      center: [3, 10, 0.25 / 3],
      scale: [Math.sqrt(8 / 3), 1, expect.any(Number)],
    });
    const [row] = transform(fitted, [[7, 12, 0]]);
    expect(row![0]).toBeCloseTo(4 / Math.sqrt(8 / 3), 12);
    expect(row![1]).toBe(2);
  });

  it('min-max scales with the training minimum and range: other rows may fall outside [0, 1]', () => {
    const fitted = fitWith({ scale: 'minmax' });
    expect(transform(fitted, [[7, 10, 0.5]])[0]).toEqual([1.5, 0, 1]);
  });

  it('adds squares and pairwise products (degree 2), or the products only', () => {
    const full = fitWith({ polynomial: {} });
    expect(full.names).toEqual(['a', 'b', 'c', 'a^2', 'a*b', 'a*c', 'b^2', 'b*c', 'c^2']);
    expect(transform(full, [[2, 3, 4]])[0]).toEqual([2, 3, 4, 4, 6, 8, 9, 12, 16]);
    const interactions = fitWith({ polynomial: { interactionOnly: true } });
    expect(interactions.names).toEqual(['a', 'b', 'c', 'a*b', 'a*c', 'b*c']);
  });

  it('selects by variance, then by correlation with the target, and says what each step dropped', () => {
    const fitted = fitWith({
      select: [{ kind: 'variance' }, { kind: 'correlation', topK: 1 }],
      scale: 'standard',
    });
    // b is constant; a (r ≈ 0.87) correlates more with the target than c (r ≈ 0.19).
    expect(fitted.names).toEqual(['a']);
    expect(fitted.selection).toEqual([
      { kind: 'variance', kept: 2, dropped: ['b'] },
      { kind: 'correlation', kept: 1, dropped: ['c'] },
    ]);
    expect(transform(fitted, [[3, 0, 0]])).toEqual([[0]]);
  });

  it('selects by the importance a fitted model gives', () => {
    const rows = Array.from({ length: 60 }, (_, i) => [i % 2, (i * 7) % 5, (i * 3) % 11]);
    const fitted = fitFeatures(
      { features: rows, target: rows.map((r) => r[0]!), featureNames: ['signal', 'n1', 'n2'] },
      spec({ select: [{ kind: 'importance', algorithm: 'decisionTree', topK: 1 }] }),
      { task: 'classification', seed: 3 },
    );
    expect(fitted.names).toEqual(['signal']);
  });

  it('is plain JSON: a round trip transforms the same', () => {
    const fitted = fitWith({ polynomial: {}, select: [{ kind: 'variance' }], scale: 'minmax' });
    const again = JSON.parse(JSON.stringify(fitted));
    const rows = [
      [2, 3, 4],
      [0, 1, -1],
    ];
    expect(transform(again, rows)).toEqual(transform(fitted, rows));
  });

  it('refuses a selection that keeps nothing and a row of another width, naming them', () => {
    expect(() => fitWith({ select: [{ kind: 'variance', threshold: 100 }] })).toThrow(
      /features\.select\.0: keeps no feature/,
    );
    expect(() => transform(fitWith({}), [[1, 2]])).toThrow(ValidationError);
    expect(FeaturePipelineSpec.safeParse({ select: [{ kind: 'correlation' }] }).success).toBe(false);
  });
});
