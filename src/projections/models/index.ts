import { readFactOf } from '../../domain/facts.js';
import { type AnalyticsStore, queryRows } from '../../stores/clickhouse/client.js';
import type { RecordedEvent } from '../../stores/event-store/port.js';
import { clickhouseTime } from '../audit-index/mapping.js';
import type { Projection, Row } from '../projection.js';

export const MODELS_TABLE = 'models';
/** The projection's name, as its checkpoints record it. */
export const MODELS_PROJECTION = 'models';
export const MODEL_VERSIONS_TABLE = 'model_versions';

const FACT_TYPES = [
  'modelRegistered',
  'trainingRequested',
  'trainingSucceeded',
  'versionRegistered',
  'trainingFailed',
  'modelDeployed',
  'modelRolledBack',
  'modelRetired',
] as const;

/** A model's current row (`models`). */
export interface ModelRow extends Row {
  model_id: string;
  name: string;
  algorithm: string;
  task: string;
  state: string;
  deployed_version: number | null;
  versions: number;
  last_version: number;
  registered_at: string | null;
  updated_at: string;
  updated_by: string;
  updated_by_fact: string;
}

/** A version's current row (`model_versions`): a training run, its result, and whether it serves. */
export interface ModelVersionRow extends Row {
  model_id: string;
  version: number;
  /** `training`, `trained` or `failed`. */
  status: string;
  algorithm: string;
  implementation: string;
  params: string;
  feature_names: string;
  data_source: string;
  data_rows: string;
  train_rows: string;
  test_rows: string;
  data_from: string | null;
  data_to: string | null;
  data_hash: string;
  metrics: string;
  train_ms: number;
  artifact_kind: string;
  artifact_sha256: string;
  artifact_bytes: string;
  requested_at: string | null;
  requested_by: string;
  trained_at: string | null;
  trained_by: string;
  failure_reason: string;
  deployed: boolean;
}

const time = (date: Date) => clickhouseTime(date);
const msTime = (ms: number | null) => (ms === null ? null : clickhouseTime(new Date(ms)));
const principalOf = (event: RecordedEvent) =>
  typeof event.metadata.principal === 'string' ? event.metadata.principal : '';

function emptyModel(modelId: string): ModelRow {
  return {
    model_id: modelId,
    name: '',
    algorithm: '',
    task: '',
    state: 'unregistered',
    deployed_version: null,
    versions: 0,
    last_version: 0,
    registered_at: null,
    updated_at: time(new Date(0)),
    updated_by: '',
    updated_by_fact: '',
    position: '0',
  };
}

function emptyVersion(modelId: string, version: number): ModelVersionRow {
  return {
    model_id: modelId,
    version,
    status: 'training',
    algorithm: '',
    implementation: '',
    params: '{}',
    feature_names: '[]',
    data_source: '',
    data_rows: '0',
    train_rows: '0',
    test_rows: '0',
    data_from: null,
    data_to: null,
    data_hash: '',
    metrics: '{}',
    train_ms: 0,
    artifact_kind: '',
    artifact_sha256: '',
    artifact_bytes: '0',
    requested_at: null,
    requested_by: '',
    trained_at: null,
    trained_by: '',
    failure_reason: '',
    deployed: false,
    position: '0',
  };
}

/** What the batch starts from: each model's and each version's current row. */
export interface ModelsState {
  readonly models: Map<string, ModelRow>;
  /** By `<modelId>@<version>`. */
  readonly versions: Map<string, ModelVersionRow>;
}

const versionKey = (modelId: string, version: number) => `${modelId}@${version}`;

/**
 * Folds a batch of model facts onto the rows they start from (which it updates) and returns the rows
 * to add: one `models` row per fact, one `model_versions` row per version a fact changes. Pure but for
 * `state`; the same events on the same state give the same rows.
 */
export function mapModelFacts(
  events: readonly RecordedEvent[],
  state: ModelsState,
): { models: ModelRow[]; versions: ModelVersionRow[] } {
  const models: ModelRow[] = [];
  const versions: ModelVersionRow[] = [];
  for (const event of events) {
    const fact = readFactOf(event, ...FACT_TYPES);
    const modelId = event.streamId.slice('model-'.length);
    const position = event.position.toString();
    const at = time(event.createdAt);
    const by = principalOf(event);
    const model: ModelRow = {
      ...(state.models.get(modelId) ?? emptyModel(modelId)),
      updated_at: at,
      updated_by: by,
      updated_by_fact: fact.type,
      position,
    };
    const touch = (version: number, change: (row: ModelVersionRow) => Partial<ModelVersionRow>) => {
      const key = versionKey(modelId, version);
      const before = state.versions.get(key) ?? emptyVersion(modelId, version);
      const row: ModelVersionRow = { ...before, ...change(before), position };
      state.versions.set(key, row);
      versions.push(row);
    };
    const known = (version: number) => state.versions.has(versionKey(modelId, version));
    switch (fact.type) {
      case 'modelRegistered': {
        const d = fact.data;
        Object.assign(model, {
          name: d.name,
          algorithm: d.spec.algorithm,
          task: d.spec.task,
          state: 'registered',
          registered_at: at,
        });
        break;
      }
      case 'trainingRequested': {
        const d = fact.data;
        model.state = 'training';
        model.last_version = d.version;
        touch(d.version, () => ({
          status: 'training',
          algorithm: d.spec.algorithm,
          implementation: d.spec.implementation ?? '',
          params: JSON.stringify(d.spec.params),
          requested_at: at,
          requested_by: by,
        }));
        break;
      }
      case 'trainingSucceeded':
      case 'versionRegistered': {
        const d = fact.data;
        model.versions += 1;
        if (fact.type === 'versionRegistered') model.last_version = d.version;
        model.state = model.deployed_version === null ? 'trained' : 'deployed';
        touch(d.version, (before) => ({
          status: 'trained',
          algorithm: d.algorithm,
          implementation: d.implementation,
          params: JSON.stringify(d.params ?? null),
          feature_names: JSON.stringify(d.featureNames),
          data_source: d.data.source,
          data_rows: String(d.data.rows),
          train_rows: String(d.data.trainRows),
          test_rows: String(d.data.testRows),
          data_from: msTime(d.data.from),
          data_to: msTime(d.data.to),
          data_hash: d.data.hash,
          metrics: JSON.stringify(d.evaluation.metrics),
          train_ms: d.trainMs,
          artifact_kind: d.artifact.kind,
          artifact_sha256: d.artifact.sha256,
          artifact_bytes: String(d.artifact.bytes),
          trained_at: at,
          // Who asked for the run (the fact itself is appended by the model's actor).
          trained_by:
            fact.type === 'versionRegistered'
              ? `learningpipeline:${fact.data.source.pipelineId}`
              : before.requested_by || by,
          ...(fact.type === 'versionRegistered' ? { requested_at: at, requested_by: by } : {}),
          failure_reason: '',
          deployed: model.deployed_version === d.version,
        }));
        break;
      }
      case 'trainingFailed': {
        const d = fact.data;
        model.state = 'failed';
        if (d.version !== undefined) touch(d.version, () => ({ status: 'failed', failure_reason: d.reason }));
        break;
      }
      case 'modelDeployed':
      case 'modelRolledBack': {
        const version = fact.data.version;
        const previous = model.deployed_version;
        if (model.state !== 'training') model.state = 'deployed';
        model.deployed_version = version;
        if (previous !== null && previous !== version && known(previous))
          touch(previous, () => ({ deployed: false }));
        if (known(version)) touch(version, () => ({ deployed: true }));
        break;
      }
      case 'modelRetired': {
        const previous = model.deployed_version;
        model.state = 'retired';
        model.deployed_version = null;
        if (previous !== null && known(previous)) touch(previous, () => ({ deployed: false }));
        break;
      }
    }
    state.models.set(modelId, model);
    models.push(model);
  }
  return { models, versions };
}

/** A row as read back, with the same value types as written (64-bit integers as strings). */
function modelRow(r: ModelRow): ModelRow {
  return {
    ...r,
    deployed_version: r.deployed_version === null ? null : Number(r.deployed_version),
    versions: Number(r.versions),
    last_version: Number(r.last_version),
    position: String(r.position),
  };
}

function versionRow(r: ModelVersionRow): ModelVersionRow {
  return {
    ...r,
    version: Number(r.version),
    data_rows: String(r.data_rows),
    train_rows: String(r.train_rows),
    test_rows: String(r.test_rows),
    train_ms: Number(r.train_ms),
    artifact_bytes: String(r.artifact_bytes),
    deployed: r.deployed === true || (r.deployed as unknown) === 1 || (r.deployed as unknown) === 'true',
    position: String(r.position),
  };
}

/** The current rows of these models and of their versions (the highest position of each key). */
async function currentState(analytics: AnalyticsStore, modelIds: readonly string[]): Promise<ModelsState> {
  const ids = { ids: modelIds };
  const models = await queryRows<ModelRow>(
    analytics,
    `SELECT * FROM ${analytics.table(MODELS_TABLE)}
      WHERE model_id IN {ids:Array(String)} ORDER BY position DESC LIMIT 1 BY model_id`,
    ids,
  );
  const versions = await queryRows<ModelVersionRow>(
    analytics,
    `SELECT * FROM ${analytics.table(MODEL_VERSIONS_TABLE)}
      WHERE model_id IN {ids:Array(String)} ORDER BY position DESC LIMIT 1 BY model_id, version`,
    ids,
  );
  return {
    models: new Map(models.map((m) => [m.model_id, modelRow(m)])),
    versions: new Map(versions.map((v) => [versionKey(v.model_id, Number(v.version)), versionRow(v)])),
  };
}

/**
 * `models` (a row per model) and `model_versions` (a row per training run), from the `model-<id>`
 * streams. A batch starts from the current rows of the models it touches, which recovery has already
 * cut back to the checkpoint, so a replay gives the same rows at the same keys.
 */
export const modelsProjection: Projection = {
  name: MODELS_PROJECTION,
  filter: { categories: ['model'], eventTypes: [...FACT_TYPES] },
  tables: [MODELS_TABLE, MODEL_VERSIONS_TABLE],
  async write(events, analytics) {
    if (!events.length) return;
    const ids = [...new Set(events.map((e) => e.streamId.slice('model-'.length)))];
    const { models, versions } = mapModelFacts(events, await currentState(analytics, ids));
    if (versions.length)
      await analytics.client.insert({
        table: analytics.table(MODEL_VERSIONS_TABLE),
        values: versions,
        format: 'JSONEachRow',
      });
    if (models.length)
      await analytics.client.insert({
        table: analytics.table(MODELS_TABLE),
        values: models,
        format: 'JSONEachRow',
      });
  },
};

/** Every model's current row, by id. */
export async function findModels(analytics: AnalyticsStore): Promise<ModelRow[]> {
  const rows = await queryRows<ModelRow>(
    analytics,
    `SELECT * FROM (
       SELECT * FROM ${analytics.table(MODELS_TABLE)} FINAL
        ORDER BY position DESC LIMIT 1 BY model_id
     ) ORDER BY model_id`,
  );
  return rows.map(modelRow);
}

/** A model's versions (current rows), oldest first. */
export async function findModelVersions(
  analytics: AnalyticsStore,
  modelId: string,
): Promise<ModelVersionRow[]> {
  const rows = await queryRows<ModelVersionRow>(
    analytics,
    `SELECT * FROM (
       SELECT * FROM ${analytics.table(MODEL_VERSIONS_TABLE)} FINAL
        WHERE model_id = {id:String} ORDER BY position DESC LIMIT 1 BY version
     ) ORDER BY version`,
    { id: modelId },
  );
  return rows.map(versionRow);
}
