import { ConflictError, EventRejectedError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { Metrics, ModelEventOf, TrainingSpec } from '../domain/model/events.js';
import { type ModelContext, type ModelVersion, versionOf } from '../domain/model/state.js';
import type { FittedModel } from '../learning/algorithm.js';
import { buildDataset } from '../learning/features/build.js';
import { DatasetSpec, type SeriesDatasetSpec } from '../learning/features/dataset-spec.js';
import { type FittedFeatures, transform } from '../learning/features/pipeline.js';
import { loadModel } from '../learning/registry.js';
import { indexCheckpoint } from '../projections/audit-index/lookup.js';
import { findModels, MODELS_PROJECTION } from '../projections/models/index.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';
import type { ActorHost, ActorView, SendResult } from './host.js';
import type { ArtifactStore } from './model.artifacts.js';
import { scoreTask } from './model.training.js';

/** A model's state as the API shows it. */
export interface ModelView {
  readonly id: string;
  readonly state: string;
  readonly revision: bigint | null;
  readonly context: ModelContext;
}

export interface Caller {
  readonly principal: string;
  /** The client's id for the command: a retry with the same id is answered, not repeated. */
  readonly commandId?: string;
}

export interface PredictionResult {
  readonly version: number;
  readonly featureNames: readonly string[];
  readonly predictions: number[];
  /** Each row's time (rows built from series). */
  readonly times: number[] | null;
}

export interface VersionComparison {
  readonly rows: number;
  readonly from: number | null;
  readonly to: number | null;
  readonly a: { readonly version: number; readonly metrics: Metrics };
  readonly b: { readonly version: number; readonly metrics: Metrics };
}

const address = (id: string) => ({ kind: 'model', id });
const asView = (v: ActorView): ModelView => ({
  id: v.id,
  state: String(v.state),
  revision: v.revision,
  context: v.context as ModelContext,
});

/**
 * Models as actors (`model-<id>`): the commands the API gives (each recorded with who asked and the
 * client's command id), predictions with a loaded version kept in memory, and version comparisons.
 */
export function createModelRegistry(deps: {
  readonly host: ActorHost;
  readonly events: EventStore;
  readonly artifacts: ArtifactStore;
  readonly analytics: AnalyticsStore;
  readonly now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  /** Loaded versions by `<id>@<version>`: prediction does no I/O once a version is loaded. */
  const loaded = new Map<string, { model: FittedModel; features: FittedFeatures }>();

  async function send(id: string, event: unknown, caller: Caller): Promise<ModelView> {
    try {
      const result: SendResult = await deps.host.send(address(id), event, {
        principal: caller.principal,
        ...(caller.commandId ? { commandId: `${caller.commandId}` } : {}),
      });
      return asView(result);
    } catch (error) {
      if (error instanceof EventRejectedError)
        throw new ConflictError(
          `model ${id} (${JSON.stringify(error.state)}) does not accept ${error.eventType}`,
        );
      throw error;
    }
  }

  async function get(id: string): Promise<ModelView> {
    return asView(await deps.host.get(address(id)));
  }

  function load(id: string, version: ModelVersion) {
    const key = `${id}@${version.version}`;
    let entry = loaded.get(key);
    if (!entry) {
      const stored = deps.artifacts.load(version.artifact);
      entry = { model: loadModel(stored.model), features: stored.features };
      loaded.set(key, entry);
    }
    return entry;
  }

  function pick(view: ModelView, version?: number | null): ModelVersion {
    const wanted = version ?? view.context.deployedVersion;
    if (wanted === null || wanted === undefined)
      throw new ValidationError('version: the model has no deployed version; name one', [
        { path: 'version', message: 'the model has no deployed version; name one' },
      ]);
    const found = versionOf(view.context, wanted);
    if (!found) throw new NotFoundError(`model ${view.id} has no version ${wanted}`);
    return found;
  }

  /** The rows of a version's own dataset recipe over another time range (targets as the recipe says). */
  async function seriesRows(spec: TrainingSpec, range: { from: number; to: number }, withTarget: boolean) {
    const parsed = DatasetSpec.parse(spec.dataset);
    if (!parsed.fromSeries)
      throw new ValidationError('rows: this version was trained on inline rows; give rows', [
        { path: 'rows', message: 'this version was trained on inline rows; give rows' },
      ]);
    const s: SeriesDatasetSpec = parsed.fromSeries;
    const { label, target, ...rest } = s;
    const fromSeries = {
      ...rest,
      ...range,
      ...(withTarget ? { ...(label ? { label } : {}), ...(target ? { target } : {}) } : {}),
    };
    return buildDataset(deps.analytics, { fromSeries }, { now: now(), path: 'dataset' });
  }

  return {
    get,
    /** Every model, by id (the streams of the `model` category, folded). */
    async list(): Promise<ModelView[]> {
      // The ids from the `models` table, complete up to its checkpoint, and from the log after it (what
      // the projection has not written yet): not a read of every model event on every query.
      const checkpoint = await indexCheckpoint(deps.analytics, deps.events, MODELS_PROJECTION);
      const ids = new Set<string>(
        checkpoint === null ? [] : (await findModels(deps.analytics)).map((row) => row.model_id),
      );
      for await (const e of deps.events.readAll({
        ...(checkpoint === null ? {} : { after: checkpoint }),
        filter: { categories: ['model'] },
      }))
        ids.add(e.streamId.slice('model-'.length));
      const views = await Promise.all([...ids].sort().map((id) => get(id)));
      return views;
    },
    async stateAt(id: string, revision: bigint): Promise<ModelView> {
      return asView(await deps.host.stateAt(address(id), { revision }));
    },
    async find(id: string): Promise<ModelView | null> {
      return get(id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return null;
        throw error;
      });
    },
    async register(
      id: string,
      input: { name: string; description?: string; spec: TrainingSpec },
      caller: Caller,
    ) {
      return send(id, { type: 'modelRegistered', ...input }, caller);
    },
    /** A run of the registered recipe with overrides (or of a version's recipe, on a new window). */
    async train(id: string, overrides: Partial<TrainingSpec>, caller: Caller, baseVersion?: number) {
      const view = await get(id);
      const base = baseVersion === undefined ? view.context.spec : pick(view, baseVersion).spec;
      if (!base) throw new ConflictError(`model ${id} is not registered`);
      const spec: TrainingSpec = { ...base, ...overrides };
      // A retried command id is answered from the log, whatever the version number has become.
      return send(id, { type: 'trainingRequested', version: view.context.requested + 1, spec }, caller);
    },
    /**
     * Adds a version made elsewhere (a learning pipeline's run), next in number. The same artifact on
     * the same rows already there is answered with that version, so a retried registration adds none.
     */
    async registerVersion(
      id: string,
      made: Omit<ModelEventOf<'versionRegistered'>, 'type' | 'version'>,
      caller: Caller,
    ): Promise<{ view: ModelView; version: number; existed: boolean }> {
      const view = await get(id);
      const existing = view.context.versions.find(
        (v) => v.artifact.sha256 === made.artifact.sha256 && v.data.hash === made.data.hash,
      );
      if (existing) return { view, version: existing.version, existed: true };
      const version = view.context.requested + 1;
      const next = await send(id, { type: 'versionRegistered', version, ...made }, caller);
      return { view: next, version, existed: false };
    },
    async promote(id: string, version: number, caller: Caller) {
      return send(id, { type: 'modelDeployed', version }, caller);
    },
    async rollback(id: string, version: number | null, caller: Caller) {
      const view = await get(id);
      const from = view.context.deployedVersion;
      if (from === null) throw new ConflictError(`model ${id} has no deployed version to roll back from`);
      const to = version ?? [...view.context.versions].reverse().find((v) => v.version < from)?.version;
      if (to === undefined) throw new ConflictError(`model ${id} has no version earlier than ${from}`);
      return send(id, { type: 'modelRolledBack', version: to, from }, caller);
    },
    async retire(id: string, reason: string | undefined, caller: Caller) {
      return send(id, { type: 'modelRetired', ...(reason ? { reason } : {}) }, caller);
    },
    /** Loads a version into memory (on promotion; predictions then do no I/O). */
    async warm(id: string): Promise<void> {
      const view = await get(id);
      if (view.context.deployedVersion !== null) load(id, pick(view));
    },
    /**
     * Predicts with the deployed version (or `version`): given rows (the dataset's columns, before the
     * feature pipeline), or the rows its recipe builds from series over [from, to).
     */
    async predict(
      id: string,
      input: { version?: number | null; rows?: number[][] | null; from?: number | null; to?: number | null },
    ): Promise<PredictionResult> {
      const view = await get(id);
      const version = pick(view, input.version);
      const { model, features } = load(id, version);
      let rows: number[][];
      let times: number[] | null = null;
      if (input.rows) {
        rows = input.rows;
      } else {
        if (input.from == null || input.to == null)
          throw new ValidationError('rows: give rows, or from and to', [
            { path: 'rows', message: 'give rows, or from and to' },
          ]);
        const dataset = await seriesRows(version.spec, { from: input.from, to: input.to }, false);
        rows = dataset.features;
        times = dataset.times;
      }
      if (rows.some((r) => r.length !== version.featureNames.length))
        throw new ValidationError(
          `rows: every row needs ${version.featureNames.length} values (${version.featureNames.join(', ')})`,
          [{ path: 'rows', message: `every row needs ${version.featureNames.length} values` }],
        );
      const predictions = rows.length ? [...model.predict(transform(features, rows))] : [];
      return { version: version.version, featureNames: version.featureNames, predictions, times };
    },
    /**
     * Both versions scored on the same rows: by default the rows after the later of the two versions'
     * `trainedUntil` within the newer version's window, rebuilt with each version's own recipe and
     * matched by row time, so neither version trained on any of them.
     */
    async compare(id: string, a: number, b: number): Promise<VersionComparison> {
      const view = await get(id);
      const va = pick(view, a);
      const vb = pick(view, b);
      if (
        va.data.trainedUntil === null ||
        vb.data.trainedUntil === null ||
        vb.data.to === null ||
        va.data.to === null
      ) {
        return {
          rows: 0,
          from: null,
          to: null,
          a: { version: a, metrics: va.evaluation.metrics },
          b: { version: b, metrics: vb.evaluation.metrics },
        };
      }
      const cutoff = Math.max(va.data.trainedUntil, vb.data.trainedUntil);
      const to = Math.max(va.data.to, vb.data.to);
      const from = Math.min(va.data.from ?? cutoff, vb.data.from ?? cutoff);
      const [da, db] = await Promise.all([
        seriesRows(va.spec, { from, to }, true),
        seriesRows(vb.spec, { from, to }, true),
      ]);
      const rowsA = new Map(da.times!.map((t, i) => [t, i]));
      const common = db.times!.flatMap((t, j) =>
        t > cutoff && rowsA.has(t) ? [[rowsA.get(t)!, j] as const] : [],
      );
      const score = (version: ModelVersion, d: typeof da, idx: number[]) => {
        const { model, features } = load(id, version);
        const rows = idx.map((i) => d.features[i]!);
        const predicted = rows.length ? [...model.predict(transform(features, rows))] : [];
        return scoreTask(
          version.spec.task,
          rows,
          idx.map((i) => d.target[i]!),
          predicted,
        );
      };
      return {
        rows: common.length,
        from: cutoff,
        to,
        a: {
          version: a,
          metrics: common.length
            ? score(
                va,
                da,
                common.map(([i]) => i),
              )
            : {},
        },
        b: {
          version: b,
          metrics: common.length
            ? score(
                vb,
                db,
                common.map(([, j]) => j),
              )
            : {},
        },
      };
    },
  };
}

export type ModelRegistry = ReturnType<typeof createModelRegistry>;
