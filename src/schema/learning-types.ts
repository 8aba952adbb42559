import { ALGORITHM_NAMES } from '../learning/algorithm.js';
import type { DatasetSeries, DroppedRows } from '../learning/features/dataset.js';
import { PoolFullError, WorkerCrashedError } from '../learning/pool/errors.js';
import { builder, Label, labelList } from './builder.js';
import { ErrorInterface } from './error-types.js';
import { SeriesSelectorInput } from './series.js';

/** The learning API's GraphQL types: dataset inputs, previews, evaluation results, pool errors. */

export const LearningAlgorithm = builder.enumType('LearningAlgorithm', { values: ALGORITHM_NAMES });
export const LearningTask = builder.enumType('LearningTask', {
  values: ['classification', 'regression', 'clustering'] as const,
});
export const EvaluationMethod = builder.enumType('EvaluationMethod', {
  values: {
    HOLDOUT: { value: 'holdout', description: 'One seeded split: `testFraction` of the rows to test on.' },
    KFOLD: { value: 'kfold', description: '`folds` seeded folds: every row is tested on once.' },
  } as const,
});
const FailureLabelKind = builder.enumType('FailureLabelKind', {
  values: {
    ALERT: { value: 'alert', description: 'An `alertFired` transition (its time) on one of the series.' },
    ANOMALY: { value: 'anomaly', description: 'An anomaly (its sample time) on one of the series.' },
  } as const,
});
const CalendarEncoding = builder.enumType('CalendarEncoding', {
  values: {
    CYCLIC: {
      value: 'cyclic',
      description: 'sin and cos of the angle on the day (week): `time_of_day_sin`, `…_cos`.',
    },
    NUMERIC: {
      value: 'numeric',
      description: '`hour_of_day` (0–24, fractional) and `day_of_week` (0 = Monday).',
    },
  } as const,
});

const InlineDatasetInput = builder.inputType('InlineDatasetInput', {
  fields: (t) => ({
    features: t.field({
      type: t.listRef(t.listRef('Float')),
      required: true,
      description: 'Rows, every row as wide.',
    }),
    target: t.floatList({ description: 'One class label or value per row; absent for clustering.' }),
    featureNames: t.stringList({ description: 'Default: x0, x1, …' }),
  }),
});

const CalendarFeaturesInput = builder.inputType('CalendarFeaturesInput', {
  description: "Calendar features (UTC) at each row's time.",
  fields: (t) => ({
    timeOfDay: t.boolean(),
    dayOfWeek: t.boolean(),
    encoding: t.field({ type: CalendarEncoding, description: 'Default: CYCLIC.' }),
  }),
});

const FailureLabelInput = builder.inputType('FailureLabelInput', {
  description:
    "A 0/1 label from stored facts: 1 iff such a fact has its time in (t, t + horizonMs], t the row's time.",
  fields: (t) => ({
    kind: t.field({ type: FailureLabelKind, required: true }),
    selector: t.field({
      type: SeriesSelectorInput,
      description: "The series whose facts count (default: the dataset's).",
    }),
    rule: t.string({ description: 'ALERT: only this rule (default: any).' }),
    pipelineId: t.string({ description: 'ANOMALY: only this pipeline (default: any).' }),
    minScore: t.float({ description: 'ANOMALY: at least this score (0–1).' }),
    horizonMs: t.float({ required: true, description: 'Whole milliseconds.' }),
  }),
});

const TargetSeriesInput = builder.inputType('TargetSeriesInput', {
  description: "A target series' bucket average horizonSteps steps after the row's bucket (regression).",
  fields: (t) => ({
    series: t.field({ type: SeriesSelectorInput, required: true, description: 'Exactly one series.' }),
    horizonSteps: t.int({ description: 'Default 1 (0: the same bucket).' }),
  }),
});

const SeriesDatasetInput = builder.inputType('SeriesDatasetInput', {
  description:
    "Series averaged into buckets of stepMs over [from, to), one column per series, with derived features; a row per bucket, its time the bucket's end.",
  fields: (t) => ({
    series: t.field({
      type: [SeriesSelectorInput],
      required: true,
      description: 'Each series selected becomes a column.',
    }),
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true }),
    stepMs: t.int({ required: true }),
    lags: t.intList({ description: 'k: the value k steps back (`<column>_lag<k>`).' }),
    rolling: t.intList({
      description: 'w ≥ 2: mean and standard deviation of the last w steps (`_mean<w>`, `_std<w>`).',
    }),
    differences: t.intList({ description: 'k: the value minus the one k steps back (`_diff<k>`).' }),
    calendar: t.field({ type: CalendarFeaturesInput }),
    timeIndex: t.boolean({
      description:
        "Adds a last column `step`: the row's time in steps since the epoch (what holtWinters reads).",
    }),
    label: t.field({ type: FailureLabelInput, description: 'A failure label (classification).' }),
    target: t.field({
      type: TargetSeriesInput,
      description: 'A target series (regression); not with label.',
    }),
  }),
});

export const DatasetInput = builder.inputType('DatasetInput', {
  description: 'Exactly one of inline and fromSeries.',
  fields: (t) => ({
    inline: t.field({ type: InlineDatasetInput }),
    fromSeries: t.field({ type: SeriesDatasetInput }),
  }),
});

export const EvaluationInput = builder.inputType('EvaluationInput', {
  fields: (t) => ({
    method: t.field({ type: EvaluationMethod, required: true }),
    folds: t.int({ description: 'KFOLD: 2–50 (default 5).' }),
    testFraction: t.float({ description: 'HOLDOUT: between 0 and 1 (default 0.2).' }),
    seed: t.int({ description: 'Default 0: the same seed gives the same splits.' }),
    stratify: t.boolean({
      description: 'Keep class shares in every split (default: true for classification).',
    }),
  }),
});

export const EvaluateModelInput = builder.inputType('EvaluateModelInput', {
  fields: (t) => ({
    algorithm: t.field({ type: LearningAlgorithm, required: true }),
    implementation: t.string({ description: "Default: the algorithm's default implementation." }),
    task: t.field({ type: LearningTask, required: true }),
    params: t.field({ type: 'JSONObject', description: 'Hyper-parameters (defaults as scikit-learn).' }),
    seed: t.int({
      description: "The model's seed (bootstrap, feature sampling); default: the evaluation's.",
    }),
    features: t.field({
      type: 'JSONObject',
      description: 'A feature pipeline: { polynomial, select, scale } (see docs/learning.md).',
    }),
    dataset: t.field({ type: DatasetInput, required: true }),
    evaluation: t.field({ type: EvaluationInput, required: true }),
  }),
});

export const DroppedRowsRef = builder.objectRef<DroppedRows>('DroppedRows').implement({
  description: 'Rows left out, by the first reason that applies.',
  fields: (t) => ({
    missingInputs: t.exposeInt('missingInputs', {
      description: 'A bucket without samples, or a lag or window reaching before from.',
    }),
    missingTarget: t.exposeInt('missingTarget', {
      description: 'The target series has no value for the row.',
    }),
    labelUnknown: t.exposeInt('labelUnknown', { description: "The label's horizon reaches past now." }),
  }),
});

const ClassCount = builder.objectRef<{ label: number; count: number }>('ClassCount').implement({
  fields: (t) => ({ label: t.exposeFloat('label'), count: t.exposeInt('count') }),
});

const DatasetSeriesRef = builder.objectRef<DatasetSeries>('DatasetSeries').implement({
  fields: (t) => ({
    column: t.exposeString('column'),
    seriesId: t.exposeString('seriesId'),
    name: t.exposeString('name'),
    labels: t.field({ type: [Label], resolve: (s) => labelList(s.labels) }),
  }),
});

export interface DatasetPreviewShape {
  readonly featureNames: readonly string[];
  readonly rows: readonly (readonly number[])[];
  readonly times: readonly number[] | null;
  readonly target: readonly number[];
  readonly targetKind: string;
  readonly candidates: number;
  readonly rowsKept: number;
  readonly dropped: DroppedRows;
  readonly labelBalance: readonly { label: number; count: number }[] | null;
  readonly series: readonly DatasetSeries[];
}

export const DatasetPreview = builder.objectRef<DatasetPreviewShape>('DatasetPreview').implement({
  description:
    'The feature rows a dataset input gives: names, the first rows, and how many were kept and dropped.',
  fields: (t) => ({
    featureNames: t.stringList({ resolve: (d) => [...d.featureNames] }),
    rows: t.field({
      type: [t.listRef('Float')],
      description: 'The first `limit` rows kept.',
      resolve: (d) => d.rows.map((r) => [...r]),
    }),
    times: t.field({
      type: ['DateTime'],
      nullable: true,
      description: "Those rows' times (null inline).",
      resolve: (d) => (d.times ? [...d.times] : null),
    }),
    target: t.floatList({
      description: "Those rows' targets (empty without one).",
      resolve: (d) => [...d.target],
    }),
    targetKind: t.exposeString('targetKind', { description: '`label`, `series`, `inline` or `none`.' }),
    candidates: t.exposeInt('candidates', { description: 'Buckets in the range (inline: rows given).' }),
    rowsKept: t.exposeInt('rowsKept'),
    rowsDropped: t.int({
      resolve: (d) => d.dropped.missingInputs + d.dropped.missingTarget + d.dropped.labelUnknown,
    }),
    dropped: t.field({ type: DroppedRowsRef, resolve: (d) => d.dropped }),
    labelBalance: t.field({
      type: [ClassCount],
      nullable: true,
      description: 'Rows per target class over all rows kept (null when the target is not class labels).',
      resolve: (d) => (d.labelBalance ? [...d.labelBalance] : null),
    }),
    series: t.field({ type: [DatasetSeriesRef], resolve: (d) => [...d.series] }),
  }),
});

builder.objectType(PoolFullError, {
  name: 'PoolFullError',
  description: 'Every learning worker is busy and the queue is full (LEARNING_QUEUE_MAX): retry later.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof PoolFullError,
  fields: (t) => ({ busy: t.exposeInt('busy'), queued: t.exposeInt('queued') }),
});

builder.objectType(WorkerCrashedError, {
  name: 'WorkerCrashedError',
  description: 'The worker running the job crashed; it has been replaced (retrying may succeed).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof WorkerCrashedError,
  fields: () => ({}),
});
