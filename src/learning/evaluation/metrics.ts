/**
 * Scores of predictions against the truth, on rows the model did not train on. Pure.
 *
 * Classification: accuracy; precision, recall and F1 of the positive class when there are two classes
 * (the larger label: 1 of 0/1), else their unweighted mean over the classes (macro); ROC-AUC from the
 * predicted probabilities (two classes: of the positive class; more: one-vs-rest, averaged over the
 * classes that have both positive and negative test rows); the confusion matrix. A ratio with nothing
 * to divide (no predicted positives) is 0, as scikit-learn answers by default.
 * Regression: R², RMSE and MAE (R² of a constant truth: 1 when every prediction is exact, else 0).
 */

export interface ConfusionMatrix {
  /** The class labels, ascending: rows are the true class, columns the predicted one. */
  readonly classes: readonly number[];
  readonly counts: readonly (readonly number[])[];
}

export type Metrics = Readonly<Record<string, number | null>>;

export const CLASSIFICATION_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const;
export const REGRESSION_METRICS = ['r2', 'rmse', 'mae'] as const;
export const CLUSTERING_METRICS = ['inertia', 'silhouette', 'clusters'] as const;

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function confusionMatrix(
  truth: readonly number[],
  predicted: readonly number[],
  known: readonly number[] = [],
): ConfusionMatrix {
  const classes = [...new Set([...known, ...truth, ...predicted])].sort((a, b) => a - b);
  const at = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => classes.map(() => 0));
  truth.forEach((y, i) => {
    counts[at.get(y)!]![at.get(predicted[i]!)!]!++;
  });
  return { classes, counts };
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative
 * (ties count half), from average ranks (Mann–Whitney U). Null without a positive or a negative.
 */
export function rocAuc(positive: readonly boolean[], scores: readonly number[]): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let m = i; m <= j; m++) ranks[order[m]!] = rank;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  positive.forEach((p, i) => {
    if (p) {
      pos++;
      rankSum += ranks[i]!;
    }
  });
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Per-class precision, recall and F1 from a confusion matrix. */
function perClass(m: ConfusionMatrix, c: number) {
  const tp = m.counts[c]![c]!;
  const predicted = m.counts.reduce((a, row) => a + row[c]!, 0);
  const actual = m.counts[c]!.reduce((a, v) => a + v, 0);
  const precision = ratio(tp, predicted);
  const recall = ratio(tp, actual);
  return { precision, recall, f1: ratio(2 * precision * recall, precision + recall) };
}

export function classificationMetrics(
  truth: readonly number[],
  predicted: readonly number[],
  /** Per row, the probability of each of `probaClasses` (the model's `classes`); null without. */
  proba: readonly (readonly number[])[] | null,
  probaClasses: readonly number[] = [],
): { metrics: Metrics; confusion: ConfusionMatrix } {
  const confusion = confusionMatrix(truth, predicted, probaClasses);
  const { classes } = confusion;
  const accuracy = ratio(
    truth.reduce((a, y, i) => a + (y === predicted[i] ? 1 : 0), 0),
    truth.length,
  );
  const scoreOf = (c: number) => {
    const column = probaClasses.indexOf(c);
    return truth.map((_, i) => (column < 0 || !proba ? 0 : proba[i]![column]!));
  };
  let precision: number;
  let recall: number;
  let f1: number;
  let auc: number | null = null;
  if (classes.length <= 2) {
    const positive = classes.length - 1;
    ({ precision, recall, f1 } = perClass(confusion, positive));
    if (proba && classes.length === 2)
      auc = rocAuc(
        truth.map((y) => y === classes[positive]),
        scoreOf(classes[positive]!),
      );
  } else {
    const each = classes.map((_, c) => perClass(confusion, c));
    const mean = (k: 'precision' | 'recall' | 'f1') => each.reduce((a, e) => a + e[k], 0) / each.length;
    precision = mean('precision');
    recall = mean('recall');
    f1 = mean('f1');
    if (proba) {
      const aucs = classes.flatMap((c) => {
        const a = rocAuc(
          truth.map((y) => y === c),
          scoreOf(c),
        );
        return a === null ? [] : [a];
      });
      auc = aucs.length ? aucs.reduce((a, v) => a + v, 0) / aucs.length : null;
    }
  }
  return { metrics: { accuracy, precision, recall, f1, rocAuc: auc }, confusion };
}

export function regressionMetrics(truth: readonly number[], predicted: readonly number[]): Metrics {
  const n = truth.length;
  const mean = truth.reduce((a, y) => a + y, 0) / (n || 1);
  let ssRes = 0;
  let ssTot = 0;
  let abs = 0;
  truth.forEach((y, i) => {
    const e = y - predicted[i]!;
    ssRes += e * e;
    ssTot += (y - mean) ** 2;
    abs += Math.abs(e);
  });
  const r2 = ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
  return { r2, rmse: Math.sqrt(ssRes / (n || 1)), mae: abs / (n || 1) };
}

/** The mean of each metric over folds, leaving out folds where it is null (null if all are). */
export function meanMetrics(folds: readonly Metrics[]): Metrics {
  const names = [...new Set(folds.flatMap((m) => Object.keys(m)))];
  return Object.fromEntries(
    names.map((name) => {
      const values = folds.map((m) => m[name]).filter((v): v is number => typeof v === 'number');
      return [name, values.length ? values.reduce((a, v) => a + v, 0) / values.length : null];
    }),
  );
}

/** Rows the silhouette is computed on at most (it is quadratic): the first ones, which a split shuffled. */
const SILHOUETTE_ROWS = 2000;

const squaredDistance = (a: readonly number[], b: readonly number[]) => {
  let d = 0;
  for (let j = 0; j < a.length; j++) d += (a[j]! - b[j]!) ** 2;
  return d;
};

/**
 * How well rows the model did not train on fall into its clusters: `inertia`, the mean squared
 * distance of a row to the centre of the rows assigned with it (as scikit-learn's `inertia_`, per
 * row); `silhouette`, the mean silhouette coefficient (-1 to 1, higher is better; null with fewer
 * than two clusters; on the first 2,000 rows at most); `clusters`, how many clusters the rows fell in.
 */
export function clusteringMetrics(
  rows: readonly (readonly number[])[],
  assigned: readonly number[],
): Metrics {
  const groups = new Map<number, number[]>();
  assigned.forEach((c, i) => {
    const members = groups.get(c) ?? [];
    members.push(i);
    groups.set(c, members);
  });
  let inertia = 0;
  for (const members of groups.values()) {
    const width = rows[members[0]!]!.length;
    const centre = new Array<number>(width).fill(0);
    for (const i of members) for (let j = 0; j < width; j++) centre[j]! += rows[i]![j]! / members.length;
    for (const i of members) inertia += squaredDistance(rows[i]!, centre);
  }
  let silhouette: number | null = null;
  const n = Math.min(rows.length, SILHOUETTE_ROWS);
  if (groups.size >= 2 && n >= 2) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const sums = new Map<number, { sum: number; count: number }>();
      for (let k = 0; k < n; k++) {
        if (k === i) continue;
        const entry = sums.get(assigned[k]!) ?? { sum: 0, count: 0 };
        entry.sum += Math.sqrt(squaredDistance(rows[i]!, rows[k]!));
        entry.count++;
        sums.set(assigned[k]!, entry);
      }
      const own = sums.get(assigned[i]!);
      if (!own) continue; // alone in its cluster among these rows: 0, as scikit-learn
      const a = own.sum / own.count;
      let b = Number.POSITIVE_INFINITY;
      for (const [c, entry] of sums) if (c !== assigned[i]) b = Math.min(b, entry.sum / entry.count);
      if (Number.isFinite(b)) total += (b - a) / Math.max(a, b) || 0;
    }
    silhouette = total / n;
  }
  return { inertia: inertia / (rows.length || 1), silhouette, clusters: groups.size };
}
