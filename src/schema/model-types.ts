import type { ModelView, PredictionResult, VersionComparison } from '../actors/model.registry.js';
import type { Metrics } from '../domain/model/events.js';
import type { ModelVersion } from '../domain/model/state.js';
import type { RecordedEvent } from '../stores/event-store/port.js';
import { builder } from './builder.js';
import { DatasetInput, LearningAlgorithm, LearningTask } from './learning-types.js';

/** The model registry's GraphQL types: models, versions, predictions, comparisons, inputs. */

/** A value as plain JSON (what the JSONObject scalar carries). */
export const asJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

export const ModelMetric = builder
  .objectRef<{ name: string; value: number | null }>('ModelMetric')
  .implement({
    fields: (t) => ({
      name: t.exposeString('name'),
      value: t.float({ nullable: true, resolve: (m) => m.value }),
    }),
  });
export const metricList = (m: Metrics) => Object.entries(m).map(([name, value]) => ({ name, value }));

export const DataWindowRef = builder.objectRef<ModelVersion['data']>('ModelDataWindow').implement({
  description:
    'The rows a version was made from: the earlier trainRows fitted on, the later testRows held out.',
  fields: (t) => ({
    source: t.exposeString('source', { description: 'inline | series' }),
    series: t.stringList({ resolve: (d) => d.series.map((s) => s.column) }),
    from: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.from }),
    to: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.to }),
    stepMs: t.int({ nullable: true, resolve: (d) => d.stepMs }),
    rows: t.exposeInt('rows'),
    trainRows: t.exposeInt('trainRows'),
    testRows: t.exposeInt('testRows'),
    trainedUntil: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.trainedUntil }),
    hash: t.exposeString('hash', { description: 'sha256 of the rows, targets and times.' }),
  }),
});

export const ModelVersionRef = builder
  .objectRef<ModelVersion & { deployed: boolean }>('ModelVersion')
  .implement({
    fields: (t) => ({
      version: t.exposeInt('version'),
      deployed: t.exposeBoolean('deployed'),
      algorithm: t.field({ type: LearningAlgorithm, resolve: (v) => v.algorithm }),
      implementation: t.exposeString('implementation'),
      task: t.field({ type: LearningTask, resolve: (v) => v.spec.task }),
      params: t.field({
        type: 'JSONObject',
        description: 'Every hyper-parameter, defaults filled in.',
        resolve: (v) => asJson(v.params ?? {}),
      }),
      seed: t.int({ resolve: (v) => v.spec.seed }),
      features: t.field({
        type: 'JSONObject',
        description: 'The feature pipeline asked for.',
        resolve: (v) => v.spec.features,
      }),
      dataset: t.field({
        type: 'JSONObject',
        description: 'The dataset recipe (DatasetSpec) as run.',
        resolve: (v) => v.spec.dataset,
      }),
      featureNames: t.stringList({ resolve: (v) => v.featureNames }),
      data: t.field({ type: DataWindowRef, resolve: (v) => v.data }),
      metrics: t.field({
        type: [ModelMetric],
        description: 'On the held-out rows.',
        resolve: (v) => metricList(v.evaluation.metrics),
      }),
      trainMs: t.exposeFloat('trainMs'),
      artifactKind: t.string({
        description: 'inline (in the fact) | file (DATA_DIR/models/<sha256>.json)',
        resolve: (v) => v.artifact.kind,
      }),
      artifactSha256: t.string({ resolve: (v) => v.artifact.sha256 }),
      artifactBytes: t.int({ resolve: (v) => v.artifact.bytes }),
    }),
  });
export const versionsOf = (m: ModelView) =>
  m.context.versions.map((v) => ({ ...v, deployed: v.version === m.context.deployedVersion }));

export const ModelRef = builder.objectRef<ModelView>('Model').implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: 'The actor is `model-<id>`.' }),
    state: t.exposeString('state', {
      description: 'registered | training | trained | deployed | failed | retired',
    }),
    revision: t.string({ nullable: true, resolve: (m) => (m.revision === null ? null : String(m.revision)) }),
    name: t.string({ nullable: true, resolve: (m) => m.context.name }),
    description: t.string({ nullable: true, resolve: (m) => m.context.description }),
    deployedVersion: t.int({ nullable: true, resolve: (m) => m.context.deployedVersion }),
    trainingVersion: t.int({
      nullable: true,
      description: 'The run in progress.',
      resolve: (m) => m.context.training?.version ?? null,
    }),
    lastFailure: t.string({ nullable: true, resolve: (m) => m.context.lastFailure?.reason ?? null }),
    versions: t.field({ type: [ModelVersionRef], resolve: versionsOf }),
  }),
});

export const Prediction = builder.objectRef<PredictionResult>('ModelPrediction').implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    featureNames: t.stringList({ resolve: (p) => [...p.featureNames] }),
    predictions: t.floatList({ resolve: (p) => p.predictions }),
    times: t.field({ type: ['DateTime'], nullable: true, resolve: (p) => p.times }),
  }),
});

export const SideRef = builder.objectRef<VersionComparison['a']>('ModelVersionScore').implement({
  fields: (t) => ({
    version: t.exposeInt('version'),
    metrics: t.field({ type: [ModelMetric], resolve: (s) => metricList(s.metrics) }),
  }),
});
export const Comparison = builder.objectRef<VersionComparison>('ModelVersionComparison').implement({
  description:
    "Both versions scored on the same rows: the rows after both versions' trainedUntil, each rebuilt with that version's own recipe and matched by time (neither trained on them). Inline-trained versions: their recorded holdout metrics (rows 0).",
  fields: (t) => ({
    rows: t.exposeInt('rows'),
    from: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.from }),
    to: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.to }),
    a: t.field({ type: SideRef, resolve: (c) => c.a }),
    b: t.field({ type: SideRef, resolve: (c) => c.b }),
  }),
});

export const ModelChange = builder
  .objectRef<{ event: RecordedEvent; model: ModelView }>('ModelChange')
  .implement({
    fields: (t) => ({
      type: t.string({ resolve: (c) => c.event.type }),
      position: t.field({ type: 'Position', resolve: (c) => c.event.position }),
      principal: t.string({
        nullable: true,
        resolve: (c) => (c.event.metadata.principal as string | undefined) ?? null,
      }),
      model: t.field({ type: ModelRef, resolve: (c) => c.model }),
    }),
  });

export const RegisterModelInput = builder.inputType('RegisterModelInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    algorithm: t.field({ type: LearningAlgorithm, required: true }),
    implementation: t.string(),
    task: t.field({ type: LearningTask, required: true }),
    params: t.field({ type: 'JSONObject' }),
    seed: t.int(),
    features: t.field({ type: 'JSONObject', description: 'The feature pipeline (as evaluateModel).' }),
    dataset: t.field({ type: DatasetInput, required: true }),
    testFraction: t.float({ description: 'The last rows held out, in time order (default 0.2).' }),
  }),
});
export const TrainModelInput = builder.inputType('TrainModelInput', {
  description: 'Overrides of the recipe for this run.',
  fields: (t) => ({
    algorithm: t.field({ type: LearningAlgorithm }),
    implementation: t.string(),
    params: t.field({ type: 'JSONObject' }),
    seed: t.int(),
    features: t.field({ type: 'JSONObject' }),
    dataset: t.field({ type: DatasetInput }),
    testFraction: t.float(),
  }),
});
