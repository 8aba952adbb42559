import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { ALGORITHM_NAMES } from '../learning/algorithm.js';
import type { EvaluationReport } from '../learning/evaluation/evaluate.js';
import { EvaluationSpec } from '../learning/evaluation/evaluate.js';
import type { Metrics } from '../learning/evaluation/metrics.js';
import { buildDataset } from '../learning/features/build.js';
import { classCounts, type Dataset, type DroppedRows } from '../learning/features/dataset.js';
import { DatasetSpec } from '../learning/features/dataset-spec.js';
import { FeaturePipelineSpec } from '../learning/features/pipeline-spec.js';
import { PoolFullError, WorkerCrashedError } from '../learning/pool/errors.js';
import { buffersOf, packData } from '../learning/pool/wire.js';
import { builder } from './builder.js';
import { parseInput } from './configuration/shared.js';
import { MUTATION_ERRORS } from './error-types.js';
import { badInput } from './errors.js';
import {
  DatasetInput,
  DatasetPreview,
  DroppedRowsRef,
  EvaluateModelInput,
  EvaluationMethod,
  LearningAlgorithm,
  LearningTask,
} from './learning-types.js';

/**
 * The learning API: a preview of the rows a dataset input gives (`dataset`, viewers), and a model
 * evaluated on them in the worker pool (`evaluateModel`, admins). Inputs are checked with the learning
 * core's zod schemas; errors name the field (`input.dataset.fromSeries.lags.0`).
 */

/** GraphQL gives absent optional fields as null; the schemas take them as absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, withoutNulls(v)]])),
  );
}

/** The same error with every field under `prefix` (errors from the worker name fields of the input). */
function under(prefix: string, error: unknown): unknown {
  if (!(error instanceof ValidationError)) return error;
  const issues = error.issues.map((i) => ({
    path: `${prefix}.${i.path.replace(/^data\b/, 'dataset')}`,
    message: i.message,
  }));
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

const EvaluateInput = z.object({
  algorithm: z.enum(ALGORITHM_NAMES),
  implementation: z.string().min(1).optional(),
  task: z.enum(['classification', 'regression', 'clustering']),
  params: z.record(z.string(), z.unknown()).optional(),
  seed: z.number().int().optional(),
  features: FeaturePipelineSpec.default({ select: [], scale: 'none' }),
  dataset: DatasetSpec,
  evaluation: EvaluationSpec,
});

const PREVIEW_DEFAULT = 20;
const PREVIEW_MAX = 1000;

const MetricValue = builder.objectRef<{ name: string; value: number | null }>('MetricValue').implement({
  description:
    'accuracy, precision, recall, f1, rocAuc (classification: binary of the positive class, the larger label; multiclass macro, ROC-AUC one-vs-rest); r2, rmse, mae (regression).',
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.float({
      nullable: true,
      description: 'Null where undefined (ROC-AUC without probabilities or with one class).',
      resolve: (m) => m.value,
    }),
  }),
});
const metricList = (m: Metrics) => Object.entries(m).map(([name, value]) => ({ name, value }));

const EvaluationFold = builder.objectRef<EvaluationReport['folds'][number]>('EvaluationFold').implement({
  fields: (t) => ({
    fold: t.exposeInt('fold'),
    trainRows: t.exposeInt('trainRows'),
    testRows: t.exposeInt('testRows'),
    trainMs: t.exposeFloat('trainMs', { description: 'Fitting the model, in ms.' }),
    metrics: t.field({
      type: [MetricValue],
      description: "On the fold's test rows.",
      resolve: (f) => metricList(f.metrics),
    }),
    features: t.stringList({
      description: 'The features the model saw, after the pipeline.',
      resolve: (f) => [...f.features],
    }),
  }),
});

const FeatureImportance = builder
  .objectRef<{ name: string; importance: number }>('FeatureImportance')
  .implement({
    fields: (t) => ({ name: t.exposeString('name'), importance: t.exposeFloat('importance') }),
  });

const ConfusionMatrixRef = builder
  .objectRef<NonNullable<EvaluationReport['confusion']>>('ConfusionMatrix')
  .implement({
    description: 'counts[i][j]: test rows of class classes[i] predicted as classes[j].',
    fields: (t) => ({
      classes: t.floatList({ resolve: (m) => [...m.classes] }),
      counts: t.field({ type: [t.listRef('Int')], resolve: (m) => m.counts.map((r) => [...r]) }),
    }),
  });

interface ModelEvaluationShape extends EvaluationReport {
  readonly dropped: DroppedRows;
  readonly queuedMs: number;
  readonly runMs: number;
}

const ModelEvaluation = builder.objectRef<ModelEvaluationShape>('ModelEvaluation').implement({
  description:
    'A model judged on rows it did not train on, each fold fitting its feature pipeline on its own training rows.',
  fields: (t) => ({
    algorithm: t.field({
      type: LearningAlgorithm,
      resolve: (e) => e.algorithm as (typeof ALGORITHM_NAMES)[number],
    }),
    implementation: t.exposeString('implementation'),
    task: t.field({ type: LearningTask, resolve: (e) => e.task }),
    method: t.field({ type: EvaluationMethod, resolve: (e) => e.method }),
    rows: t.exposeInt('rows', { description: 'Dataset rows evaluated on.' }),
    dropped: t.field({ type: DroppedRowsRef, resolve: (e) => e.dropped }),
    folds: t.field({ type: [EvaluationFold], resolve: (e) => [...e.folds] }),
    mean: t.field({
      type: [MetricValue],
      description: 'Each metric averaged over the folds.',
      resolve: (e) => metricList(e.mean),
    }),
    trainMs: t.exposeFloat('trainMs', { description: 'Model fitting over all folds, in ms.' }),
    queuedMs: t.exposeFloat('queuedMs', { description: 'Waiting for a worker, in ms.' }),
    runMs: t.exposeFloat('runMs', { description: 'In the worker (features, fitting, predicting), in ms.' }),
    featureImportance: t.field({
      type: [FeatureImportance],
      nullable: true,
      description:
        'By feature, the mean over folds; most important first (null when the algorithm has none).',
      resolve: (e) => (e.featureImportance ? [...e.featureImportance] : null),
    }),
    confusionMatrix: t.field({
      type: ConfusionMatrixRef,
      nullable: true,
      description: "Classification: over every fold's test rows.",
      resolve: (e) => e.confusion,
    }),
  }),
});

builder.queryFields((t) => ({
  dataset: t.field({
    type: DatasetPreview,
    description:
      'The feature rows a dataset input gives (from series or inline): the column names, the first `limit` rows (default 20, at most 1,000), how many rows were kept and dropped (and why), and the label balance.',
    args: {
      spec: t.arg({ type: DatasetInput, required: true }),
      limit: t.arg.int(),
    },
    resolve: async (_root, args, ctx) => {
      const limit = args.limit ?? PREVIEW_DEFAULT;
      if (!Number.isInteger(limit) || limit < 1 || limit > PREVIEW_MAX)
        throw badInput('limit', `must be an integer from 1 to ${PREVIEW_MAX}, got ${limit}`);
      let dataset: Dataset;
      try {
        const spec = parseInput(DatasetSpec, withoutNulls(args.spec), 'spec');
        dataset = await buildDataset(ctx.analytics, spec, { now: Date.now(), path: 'spec' });
      } catch (error) {
        const issue = error instanceof ValidationError ? error.issues[0] : undefined;
        if (issue) throw badInput(issue.path, issue.message);
        throw error;
      }
      return {
        featureNames: dataset.featureNames,
        rows: dataset.features.slice(0, limit),
        times: dataset.times?.slice(0, limit) ?? null,
        target: dataset.target.slice(0, limit),
        targetKind: dataset.targetKind,
        candidates: dataset.candidates,
        rowsKept: dataset.features.length,
        dropped: dataset.dropped,
        labelBalance:
          dataset.targetKind === 'series' || dataset.targetKind === 'none'
            ? null
            : classCounts(dataset.target),
        series: dataset.series,
      };
    },
  }),
}));

builder.mutationFields((t) => ({
  evaluateModel: t.field({
    type: ModelEvaluation,
    authScopes: { admin: true },
    errors: { types: [...MUTATION_ERRORS, PoolFullError, WorkerCrashedError] },
    description:
      'Admins: builds the dataset, then fits and judges the model in the learning worker pool (holdout or k-fold, seeded), off the event loop. Answers the metrics per fold and their mean, train time, feature importance and the confusion matrix; `PoolFullError` when every worker is busy and the queue is full.',
    args: { input: t.arg({ type: EvaluateModelInput, required: true }) },
    resolve: async (_root, args, ctx) => {
      const input = parseInput(EvaluateInput, withoutNulls(args.input), 'input');
      const dataset = await buildDataset(ctx.analytics, input.dataset, {
        now: Date.now(),
        path: 'input.dataset',
      });
      if (dataset.features.length === 0)
        throw new ValidationError('input.dataset: no rows are left (see the dataset query for why)', [
          { path: 'input.dataset', message: 'no rows are left (see the dataset query for why)' },
        ]);
      const data = packData(dataset);
      const asked = performance.now();
      let started = asked;
      const report = await ctx.learningPool
        .run<'evaluate'>(
          {
            kind: 'evaluate',
            data,
            spec: {
              algorithm: input.algorithm,
              task: input.task,
              ...(input.implementation ? { implementation: input.implementation } : {}),
              ...(input.params ? { params: input.params } : {}),
              seed: input.seed ?? input.evaluation.seed,
            },
            features: input.features,
            evaluation: input.evaluation,
          },
          buffersOf(data.x.values, data.target),
          () => {
            started = performance.now();
          },
        )
        .catch((error: unknown) => {
          throw under('input', error);
        });
      const done = performance.now();
      return { ...report, dropped: dataset.dropped, queuedMs: started - asked, runMs: done - started };
    },
  }),
}));
