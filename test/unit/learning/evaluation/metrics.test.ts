import { describe, expect, it } from 'vitest';
import {
  classificationMetrics,
  confusionMatrix,
  meanMetrics,
  regressionMetrics,
  rocAuc,
} from '../../../../src/learning/evaluation/metrics.js';

describe('evaluation metrics, against values computed by hand', () => {
  it('ROC-AUC is the share of positive/negative pairs ranked right, ties counting half', () => {
    // Pairs (positive, negative): (0.35, 0.1) ✓, (0.35, 0.4) ✗, (0.8, 0.1) ✓, (0.8, 0.4) ✓ → 3/4.
    expect(rocAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // Positives 0.5 and 0.9, negatives 0.5 and 0.5: ½ + ½ + 1 + 1 = 3 of 4 pairs.
    expect(rocAuc([false, true, false, true], [0.5, 0.5, 0.5, 0.9])).toBe(0.75);
    expect(rocAuc([true, true], [0.2, 0.3])).toBeNull();
    expect(rocAuc([false, true], [0.9, 0.1])).toBe(0);
  });

  it('binary: precision, recall and F1 of the positive class (the larger label)', () => {
    // TP = 2 (rows 0, 7), FN = 2 (rows 1, 2), FP = 1 (row 4), TN = 3.
    const truth = [1, 1, 1, 0, 0, 0, 0, 1];
    const predicted = [1, 0, 0, 0, 1, 0, 0, 1];
    const proba = [0.9, 0.4, 0.3, 0.2, 0.6, 0.1, 0.2, 0.8].map((p) => [1 - p, p]);
    const { metrics, confusion } = classificationMetrics(truth, predicted, proba, [0, 1]);
    expect(metrics.accuracy).toBe(5 / 8);
    expect(metrics.precision).toBeCloseTo(2 / 3, 12);
    expect(metrics.recall).toBe(0.5);
    expect(metrics.f1).toBeCloseTo(4 / 7, 12);
    // Positives 0.9, 0.8 outrank every negative (0.2, 0.6, 0.1, 0.2); 0.4 and 0.3 all but 0.6: 14 of 16 pairs.
    expect(metrics.rocAuc).toBe(14 / 16);
    expect(confusion).toEqual({
      classes: [0, 1],
      counts: [
        [3, 1],
        [2, 2],
      ],
    });
  });

  it('multiclass: macro precision, recall and F1; ROC-AUC one-vs-rest', () => {
    const truth = [0, 0, 1, 1, 2, 2];
    const predicted = [0, 1, 1, 1, 2, 0];
    const { metrics, confusion } = classificationMetrics(truth, predicted, null);
    expect(confusion.counts).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
    expect(metrics.accuracy).toBeCloseTo(4 / 6, 12);
    expect(metrics.precision).toBeCloseTo((1 / 2 + 2 / 3 + 1) / 3, 12);
    expect(metrics.recall).toBeCloseTo((1 / 2 + 1 + 1 / 2) / 3, 12);
    expect(metrics.f1).toBeCloseTo((1 / 2 + 4 / 5 + 2 / 3) / 3, 12);
    expect(metrics.rocAuc).toBeNull();
    const perfect = truth.map((y) => [0, 1, 2].map((c) => (c === y ? 0.8 : 0.1)));
    expect(classificationMetrics(truth, truth, perfect, [0, 1, 2]).metrics.rocAuc).toBe(1);
  });

  it('a ratio with nothing to divide is 0; the confusion matrix lists every class known', () => {
    const { metrics } = classificationMetrics([1, 1, 0], [0, 0, 0], null, [0, 1]);
    expect(metrics).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(confusionMatrix([0], [0], [0, 1, 2]).classes).toEqual([0, 1, 2]);
  });

  it('regression: R², RMSE, MAE', () => {
    const m = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    // SS_res = 0.25 + 0.25 + 0 + 1 = 1.5; mean 2.875, SS_tot = 29.1875.
    expect(m.r2).toBeCloseTo(1 - 1.5 / 29.1875, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1.5 / 4), 12);
    expect(m.mae).toBe(0.5);
    expect(regressionMetrics([2, 2], [2, 2]).r2).toBe(1);
    expect(regressionMetrics([2, 2], [1, 2]).r2).toBe(0);
  });

  it('means over folds leave out undefined values', () => {
    expect(
      meanMetrics([
        { a: 1, b: null },
        { a: 3, b: 0.5 },
      ]),
    ).toEqual({ a: 2, b: 0.5 });
    expect(meanMetrics([{ a: null }])).toEqual({ a: null });
  });
});
