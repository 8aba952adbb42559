import type { Logger } from 'pino';
import type { ActorHost, SendResult } from '../actors/host.js';
import type { ModelRegistry, ModelView } from '../actors/model.registry.js';
import { scoreTask } from '../actors/model.training.js';
import { serialQueue } from '../configuration/common.js';
import { errorName, errorOf } from '../domain/coordinator/error.js';
import {
  type CoordinatorEvent,
  type CoordinatorPolicy,
  type CoordinatorState,
  initialCoordinator,
  type TriggerReason,
} from '../domain/coordinator/events.js';
import type { ModelVersion } from '../domain/model/state.js';
import { buildDataset } from '../learning/features/build.js';
import { DatasetSpec } from '../learning/features/dataset-spec.js';
import { createTicker } from '../runtime/ticker.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';

export const COORDINATOR_PRINCIPAL = 'actor:coordinator-main';

export interface Baseline {
  readonly modelId: string;
  readonly version: number;
  /** What the error is (`errorName`): RMSE for regression, 1 − F1 for classification. */
  readonly metric: string;
  /** The deployed version's holdout error, as recorded with it. */
  readonly baseline: number;
  /** Its error on the rows that arrived after its training window (null: too few yet). */
  readonly recent: number | null;
  readonly ratio: number | null;
  readonly rows: number;
  readonly measuredAt: number;
}

export interface Coordinator {
  start(): Promise<void>;
  stop(): Promise<void>;
  watch(modelId: string, policy: CoordinatorPolicy, principal: string): Promise<CoordinatorState>;
  unwatch(modelId: string, principal: string): Promise<CoordinatorState>;
  state(): Promise<CoordinatorState>;
  baselines(): readonly Baseline[];
  /** Runs one round now (measure, trigger, decide) and resolves when it is done. */
  tick(): Promise<void>;
}

export interface CoordinatorOptions {
  readonly host: ActorHost;
  readonly models: ModelRegistry;
  readonly analytics: AnalyticsStore;
  /** To name the run's `trainingSucceeded` as the cause of a promotion decision. */
  readonly events: EventStore;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Fewest recent rows to judge a model's recent error or drift on. */
  readonly minRows: number;
  /** PSI above which a feature has drifted. */
  readonly driftPsi: number;
  readonly now?: () => number;
}

const ADDRESS = { kind: 'coordinator', id: 'main' };
/** The fact a decision was made from. */
type Cause = Pick<SendResult, 'eventId' | 'position'>;
const EPS = 1e-9;

/** Population stability index of `recent` against `reference` over the reference's deciles. */
export function psi(reference: readonly number[], recent: readonly number[]): number {
  if (!reference.length || !recent.length) return 0;
  const sorted = [...reference].sort((a, b) => a - b);
  const edges = Array.from({ length: 9 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / 10)]!);
  const share = (values: readonly number[]) => {
    const counts = new Array<number>(10).fill(0);
    for (const v of values) {
      let bin = 0;
      while (bin < 9 && v > edges[bin]!) bin++;
      counts[bin]!++;
    }
    return counts.map((c) => Math.max(c / values.length, 1e-4));
  };
  const e = share(reference);
  const a = share(recent);
  return a.reduce((sum, ai, i) => sum + (ai - e[i]!) * Math.log(ai / e[i]!), 0);
}

/**
 * The learning coordinator: every `tickMs`, for each watched model with a deployed version, it
 * measures the version's error on the rows that arrived after its training window (its own dataset
 * recipe, rebuilt over [end of its window, now)) against its recorded holdout error (the baseline),
 * and the input drift (PSI per feature) between its training window and that recent one. A
 * degradation, a drift or a due schedule triggers one retraining (on the recent window) through the
 * model's actor, caused by the trigger's fact; a trigger while one is pending, or within the debounce
 * window of the last, is recorded as merged or deferred. A finished run is compared with the deployed
 * version on the same held-out rows (the registry's `compare`: the rows after both versions' training
 * data) and promoted only if its error there is lower (RMSE for regression, 1 − F1 for
 * classification; clustering models are not judged: they have no truth to be wrong against).
 */
export function createCoordinator(options: CoordinatorOptions): Coordinator {
  const { host, models, analytics } = options;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'coordinator' });
  const serial = serialQueue();
  const measured = new Map<string, Baseline>();
  let stopped = false;

  const state = async () => {
    try {
      return (await host.get(ADDRESS)).context as CoordinatorState;
    } catch {
      return initialCoordinator('main');
    }
  };

  const record = (event: CoordinatorEvent, source?: Cause): Promise<SendResult> =>
    host.send(ADDRESS, event, {
      principal: COORDINATOR_PRINCIPAL,
      ...(source ? { source: { id: source.eventId, position: source.position } } : {}),
    });

  async function rowsOf(version: ModelVersion, from: number, to: number) {
    const parsed = DatasetSpec.parse(version.spec.dataset);
    if (!parsed.fromSeries || from >= to) return null;
    // A window with no rows yet (or none complete) is not an error: there is nothing to judge.
    return buildDataset(
      analytics,
      { fromSeries: { ...parsed.fromSeries, from, to } },
      { now: now(), path: 'dataset' },
    ).catch((error: unknown) => {
      log.debug({ err: error, from, to }, 'no rows to judge in this window');
      return null;
    });
  }

  async function trigger(
    view: ModelView,
    current: CoordinatorState,
    policy: CoordinatorPolicy,
    reason: TriggerReason,
    evidence: Record<string, unknown>,
    cause?: Cause,
  ): Promise<boolean> {
    const modelId = view.id;
    const at = now();
    const held = current.held[modelId] ?? [];
    const pending = current.pending[modelId];
    if (pending) {
      if (!held.includes(reason))
        await record({ type: 'triggerMerged', modelId, reason, into: pending.version, at }, cause);
      return false;
    }
    const last = current.lastTriggerAt[modelId];
    if (last !== undefined && at - last < policy.debounceMs) {
      if (!held.includes(reason))
        await record(
          {
            type: 'triggerDeferred',
            modelId,
            reason,
            why: `within ${policy.debounceMs} ms of the last trigger`,
            at,
          },
          cause,
        );
      return false;
    }
    const deployed = view.context.versions.find((v) => v.version === view.context.deployedVersion)!;
    const dataset = DatasetSpec.parse(deployed.spec.dataset).fromSeries!;
    const from = deployed.data.to ?? dataset.from;
    const version = view.context.requested + 1;
    const triggered = await record(
      { type: 'retrainingTriggered', modelId, version, reason, evidence, at },
      cause,
    );
    // The recipe of the deployed version over the rows that arrived after its window.
    await host.send(
      { kind: 'model', id: modelId },
      {
        type: 'trainingRequested',
        version,
        spec: { ...deployed.spec, dataset: { fromSeries: { ...dataset, from, to: at } } },
      },
      { principal: COORDINATOR_PRINCIPAL, source: { id: triggered.eventId, position: triggered.position } },
    );
    return true;
  }

  /** The model's `trainingSucceeded` of a version, as the cause of the decision about it. */
  async function succeededEvent(modelId: string, version: number): Promise<Cause | undefined> {
    for await (const event of options.events.readStream(`model-${modelId}`)) {
      const data = event.data as { version?: number } | null;
      if (event.type === 'trainingSucceeded' && data?.version === version)
        return { eventId: event.id, position: event.position };
    }
    return undefined;
  }

  async function decide(view: ModelView, pending: { version: number }): Promise<void> {
    const modelId = view.id;
    const deployedVersion = view.context.deployedVersion;
    const made = view.context.versions.find((v) => v.version === pending.version);
    const at = now();
    if (!made) {
      if (view.context.lastFailure?.version === pending.version && deployedVersion !== null)
        await record({
          type: 'promotionDecided',
          modelId,
          version: pending.version,
          against: deployedVersion,
          better: false,
          evidence: { failed: view.context.lastFailure.reason },
          at,
        });
      return;
    }
    if (deployedVersion === null || deployedVersion === made.version) return;
    const cmp = await models.compare(modelId, deployedVersion, made.version);
    const task = made.spec.task;
    const a = errorOf(task, cmp.a.metrics);
    const b = errorOf(task, cmp.b.metrics);
    const better = cmp.rows > 0 && a !== null && b !== null && b < a;
    const decided = await record(
      {
        type: 'promotionDecided',
        modelId,
        version: made.version,
        against: deployedVersion,
        better,
        evidence: {
          rows: cmp.rows,
          from: cmp.from,
          to: cmp.to,
          metric: errorName(task),
          deployed: a,
          candidate: b,
        },
        at,
      },
      await succeededEvent(modelId, made.version),
    );
    if (better)
      await host.send(
        { kind: 'model', id: modelId },
        { type: 'modelDeployed', version: made.version },
        { principal: COORDINATOR_PRINCIPAL, source: { id: decided.eventId, position: decided.position } },
      );
  }

  async function watchOne(modelId: string, policy: CoordinatorPolicy, watchedAt: number): Promise<void> {
    const view = await models.find(modelId);
    if (!view || view.context.deployedVersion === null) return;
    const current = await state();
    const pending = current.pending[modelId];
    if (pending && view.state !== 'training') {
      // Decided this round; the (maybe new) deployed version is measured from the next.
      await decide(view, pending);
      return;
    }
    const deployed = view.context.versions.find((v) => v.version === view.context.deployedVersion);
    if (!deployed || deployed.data.to === null || deployed.data.from === null) return;
    const at = now();
    const triggers: { reason: TriggerReason; evidence: Record<string, unknown>; cause?: Cause }[] = [];
    // The rows since the latest run's window: a candidate that was not promoted has seen them already,
    // so the same evidence does not trigger again until new rows arrive.
    const since = Math.max(deployed.data.to, ...view.context.versions.map((v) => v.data.to ?? 0));
    const recent = await rowsOf(deployed, since, at);
    const task = deployed.spec.task;
    const baseline = errorOf(task, deployed.evaluation.metrics);
    if (recent && baseline !== null) {
      const enough = recent.features.length >= options.minRows;
      let recentError: number | null = null;
      if (enough) {
        const predicted = await models.predict(modelId, { version: deployed.version, rows: recent.features });
        recentError = errorOf(task, scoreTask(task, recent.features, recent.target, predicted.predictions));
      }
      const ratio = recentError === null ? null : recentError / Math.max(baseline, EPS);
      measured.set(modelId, {
        modelId,
        metric: errorName(task),
        version: deployed.version,
        baseline,
        recent: recentError,
        ratio,
        rows: recent.features.length,
        measuredAt: at,
      });
      if (
        !current.pending[modelId] &&
        recentError !== null &&
        ratio !== null &&
        ratio > policy.degradationFactor
      ) {
        const detected = await record({
          type: 'degradationDetected',
          modelId,
          version: deployed.version,
          baseline,
          recent: recentError,
          ratio: Math.min(ratio, Number.MAX_VALUE),
          factor: policy.degradationFactor,
          rows: recent.features.length,
          from: since,
          to: at,
        });
        triggers.push({
          reason: 'degradation',
          evidence: { baseline, recent: recentError, ratio },
          cause: detected,
        });
      }
      if (!current.pending[modelId] && enough) {
        const training = await rowsOf(deployed, deployed.data.from, deployed.data.to);
        if (training?.features.length) {
          const scores: Record<string, number> = {};
          recent.featureNames.forEach((name, j) => {
            scores[name] = psi(
              training.features.map((r) => r[j]!),
              recent.features.map((r) => r[j]!),
            );
          });
          const drifted = Object.values(scores).some((v) => v > options.driftPsi);
          if (drifted) {
            const detected = await record({
              type: 'driftDetected',
              modelId,
              version: deployed.version,
              psi: scores,
              threshold: options.driftPsi,
            });
            triggers.push({ reason: 'drift', evidence: { psi: scores }, cause: detected });
          }
        }
      }
    }
    if (policy.scheduleMs > 0) {
      const since = current.lastTriggerAt[modelId] ?? watchedAt;
      if (at >= since + policy.scheduleMs)
        triggers.push({ reason: 'schedule', evidence: { scheduleMs: policy.scheduleMs, since } });
    }
    for (const t of triggers) {
      await trigger(view, await state(), policy, t.reason, t.evidence, t.cause);
    }
  }

  async function round(): Promise<void> {
    const current = await state();
    for (const [modelId, { policy, watchedAt }] of Object.entries(current.watched)) {
      if (stopped) return;
      try {
        await watchOne(modelId, policy, watchedAt);
      } catch (error) {
        log.warn(
          { err: error, modelId },
          'coordinator round failed for a model; tried again at the next tick',
        );
      }
    }
  }

  const ticker = createTicker(() => serial(round), options.tickMs);
  const tick = () => ticker.tick();

  return {
    async start() {
      ticker.start();
    },
    async stop() {
      stopped = true;
      await ticker.stop();
    },
    watch: (modelId, policy, principal) =>
      serial(async () => {
        const result = await host.send(
          ADDRESS,
          { type: 'modelWatched', modelId, policy, at: now() },
          { principal },
        );
        return result.context as CoordinatorState;
      }),
    unwatch: (modelId, principal) =>
      serial(async () => {
        const result = await host.send(
          ADDRESS,
          { type: 'modelUnwatched', modelId, at: now() },
          { principal },
        );
        measured.delete(modelId);
        return result.context as CoordinatorState;
      }),
    state,
    baselines: () => [...measured.values()],
    tick,
  };
}
