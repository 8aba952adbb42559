import type { Logger } from 'pino';
import type { ActorHost, ActorView } from '../actors/host.js';
import { serialQueue } from '../configuration/common.js';
import { ConflictError, EventRejectedError, NotFoundError } from '../domain/errors.js';
import type { LearningPipelineDefinition } from '../domain/learning-pipeline/definition.js';
import type {
  LearningPipelineEvent,
  LearningPipelineState,
  RunTrigger,
} from '../domain/learning-pipeline/events.js';
import { SelectorSpec } from '../learning/features/dataset-spec.js';
import { selectorOf } from '../learning/features/from-series.js';
import { aggregate } from '../projections/metric-series/aggregate.js';
import { createTicker } from '../runtime/ticker.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';
import type { BlobStore } from './blobs.js';
import { type BuiltInKind, builtInDefinition } from './built-in.js';
import { parseDefinition } from './spec.js';

/** A learning pipeline as the API shows it: its lifecycle state and the fold of its facts. */
export interface LearningPipelineView {
  readonly id: string;
  /** undefined | idle | running | paused | failed | removed */
  readonly state: string;
  readonly revision: bigint | null;
  readonly context: LearningPipelineState;
}

export interface LearningPipelines {
  start(): Promise<void>;
  stop(): Promise<void>;
  define(id: string, definition: unknown, principal: string): Promise<LearningPipelineView>;
  defineBuiltIn(
    id: string,
    kind: BuiltInKind,
    options: unknown,
    principal: string,
  ): Promise<LearningPipelineView>;
  run(id: string, principal: string): Promise<LearningPipelineView>;
  pause(id: string, principal: string): Promise<LearningPipelineView>;
  resume(id: string, principal: string): Promise<LearningPipelineView>;
  cancel(id: string, principal: string, why?: string): Promise<LearningPipelineView>;
  remove(id: string, principal: string): Promise<LearningPipelineView>;
  get(id: string): Promise<LearningPipelineView | null>;
  stateAt(id: string, revision: bigint): Promise<LearningPipelineView>;
  list(): Promise<LearningPipelineView[]>;
  /** One scheduling round now: starts the runs that are due, highest priority first. */
  tick(): Promise<void>;
  /**
   * The earliest time a pipeline's next run reads alert (`alerts`) or anomaly (`findings`) labels
   * from, and which pipeline: what retention must keep.
   */
  labelsNeededFrom(kind: 'alerts' | 'findings', now: number): Promise<{ from: number; by: string } | null>;
}

export interface LearningPipelinesOptions {
  readonly host: ActorHost;
  /** To look for new rows before a realtime run. */
  readonly analytics: AnalyticsStore;
  readonly events: EventStore;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Runs in progress at once, across pipelines (a run waiting for a slot starts at a later tick). */
  readonly maxRunning: number;
  /** Where tasks keep their outputs: swept of what no unfinished run names (every `SWEEP_EVERY_MS`). */
  readonly blobs?: BlobStore;
  readonly now?: () => number;
}

/** How often task outputs no run can read again are deleted, and how old they must be. */
export const SWEEP_EVERY_MS = 600_000;
export const SWEEP_GRACE_MS = 3_600_000;

/** The task outputs an unfinished run (running, paused or failed: it may resume) still reads. */
export function outputsInUse(views: readonly LearningPipelineView[]): Set<string> {
  const keep = new Set<string>();
  for (const view of views) {
    const run = view.context.current;
    if (!run || run.status === 'succeeded' || run.status === 'cancelled') continue;
    for (const task of run.tasks) {
      const blob = (task.output as { blob?: { sha256?: unknown } } | null)?.blob;
      if (typeof blob?.sha256 === 'string') keep.add(blob.sha256);
    }
  }
  return keep;
}

const KIND = 'learningpipeline';
const address = (id: string) => ({ kind: KIND, id });
const asView = (v: ActorView): LearningPipelineView => ({
  id: v.id,
  state: String(v.state),
  revision: v.revision,
  context: v.context as LearningPipelineState,
});

/** When a pipeline's next scheduled (or realtime) run is due, or null when it runs only by hand. */
export function nextDueAt(s: LearningPipelineState): number | null {
  const d = s.definition;
  if (!d || s.removed || d.scheduleMs === 0) return null;
  const since = s.lastRequestedAt ?? s.definedAt ?? 0;
  const due = since + d.scheduleMs;
  if (d.mode !== 'realtime') return due;
  // Realtime: also wait until enough new steps have passed since the last window learned from, and
  // after a failed run (too few rows, say) as long again before trying once more.
  const enough = d.minNewSteps * Number((d.dataset as { stepMs?: number }).stepMs ?? 0);
  const afterFailure =
    s.current?.status === 'failed' && s.lastRequestedAt !== null ? s.lastRequestedAt + enough : 0;
  const from = s.lastSucceededTo;
  return Math.max(due, afterFailure, from === null ? 0 : from + enough);
}

/** The window a run reads: the last `windowMs`, or (realtime) the rows since the last run learned. */
export function windowFor(s: LearningPipelineState, d: LearningPipelineDefinition, now: number) {
  const earliest = now - d.windowMs;
  const from =
    d.mode === 'realtime' && s.lastSucceededTo !== null ? Math.max(earliest, s.lastSucceededTo) : earliest;
  return { from, to: now };
}

/**
 * The learning pipelines of this service: their commands (each recorded in the pipeline's stream with
 * who asked) and the scheduler, which every `tickMs` starts the runs that are due (on a schedule, or
 * on arriving data for realtime pipelines), highest priority first, at most `maxRunning` at once.
 */
export function createLearningPipelines(options: LearningPipelinesOptions): LearningPipelines {
  const { host, events } = options;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'learning-pipelines' });
  const serial = serialQueue();
  const ids = new Set<string>();
  let loaded = false;

  async function known(): Promise<string[]> {
    if (!loaded) {
      for await (const event of events.readAll({
        filter: { categories: [KIND], eventTypes: ['learningPipelineDefined'] },
      }))
        ids.add(event.streamId.slice(KIND.length + 1));
      loaded = true;
    }
    return [...ids].sort();
  }

  async function get(id: string): Promise<LearningPipelineView | null> {
    try {
      const view = asView(await host.get(address(id)));
      return view.revision === null ? null : view;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  async function must(id: string): Promise<LearningPipelineView> {
    const view = await get(id);
    if (!view) throw new NotFoundError(`no learning pipeline '${id}'`);
    return view;
  }

  async function send(id: string, event: LearningPipelineEvent, principal: string) {
    try {
      return asView(await host.send(address(id), event, { principal }));
    } catch (error) {
      if (error instanceof EventRejectedError)
        throw new ConflictError(
          `learning pipeline ${id} (${JSON.stringify(error.state)}) does not accept ${error.eventType}`,
        );
      throw error;
    }
  }

  async function define(id: string, input: unknown, principal: string) {
    const definition = parseDefinition(input);
    const view = await send(id, { type: 'learningPipelineDefined', definition, at: now() }, principal);
    ids.add(id);
    return view;
  }

  async function requestRun(view: LearningPipelineView, trigger: RunTrigger, principal: string) {
    const s = view.context;
    const definition = s.definition!;
    return send(
      view.id,
      { type: 'runRequested', run: s.runs + 1, trigger, window: windowFor(s, definition, now()), at: now() },
      principal,
    );
  }

  const currentRun = (view: LearningPipelineView) => {
    if (!view.context.current) throw new ConflictError(`learning pipeline ${view.id} has not run yet`);
    return view.context.current.run;
  };

  /**
   * Whether a realtime pipeline has rows to learn from: at least `minNewSteps` samples per series of
   * its first series selector since the window it last learned from (time passing without data starts nothing).
   */
  async function hasNewRows(s: LearningPipelineState, at: number): Promise<boolean> {
    const d = s.definition!;
    if (d.mode !== 'realtime' || s.lastSucceededTo === null) return true;
    const first = SelectorSpec.safeParse((d.dataset as { series?: unknown[] }).series?.[0]);
    if (!first.success) return true;
    const { from, to } = windowFor(s, d, at);
    const [counted] = await aggregate(options.analytics, {
      ...selectorOf(first.data),
      fn: 'count',
      from: new Date(from),
      to: new Date(to),
    });
    // Samples per series: one scrape of fifty series is one new step, not fifty.
    return counted ? counted.value / Math.max(1, counted.series) >= d.minNewSteps : false;
  }

  let sweptAt = Number.NEGATIVE_INFINITY;

  async function round(): Promise<void> {
    const views = (await Promise.all((await known()).map(get))).filter(
      (v): v is LearningPipelineView => v !== null,
    );
    if (options.blobs && now() - sweptAt >= SWEEP_EVERY_MS) {
      sweptAt = now();
      try {
        const removed = options.blobs.sweep(outputsInUse(views), SWEEP_GRACE_MS, sweptAt);
        if (removed) log.info({ removed }, 'deleted task outputs no run reads any more');
      } catch (error) {
        log.error({ err: error }, 'could not sweep task outputs; tried again later');
      }
    }
    let running = views.filter((v) => v.state === 'running').length;
    const at = now();
    const due = views
      .filter((v) => (v.state === 'idle' || v.state === 'failed') && (nextDueAt(v.context) ?? Infinity) <= at)
      .sort(
        (a, b) => b.context.definition!.priority - a.context.definition!.priority || a.id.localeCompare(b.id),
      );
    for (const view of due) {
      if (running >= options.maxRunning) break;
      const trigger: RunTrigger = view.context.definition!.mode === 'realtime' ? 'data' : 'schedule';
      try {
        // One pipeline's trouble (a selector gone wrong, the store failing) holds up none of the others.
        if (!(await hasNewRows(view.context, at))) continue;
        await requestRun(view, trigger, `actor:${KIND}-${view.id}`);
        running++;
      } catch (error) {
        log.warn(
          { err: error, pipelineId: view.id },
          'could not start a due learning pipeline run; tried again',
        );
      }
    }
  }

  const ticker = createTicker(() => serial(round), options.tickMs);

  return {
    async start() {
      await known();
      ticker.start();
    },
    async stop() {
      await ticker.stop();
    },
    define: (id, input, principal) => serial(() => define(id, input, principal)),
    defineBuiltIn: (id, kind, input, principal) =>
      serial(() => define(id, builtInDefinition(kind, id, input), principal)),
    run: (id, principal) => serial(async () => requestRun(await must(id), 'manual', principal)),
    pause: (id, principal) =>
      serial(async () => {
        const view = await must(id);
        return send(id, { type: 'runPaused', run: currentRun(view), at: now() }, principal);
      }),
    resume: (id, principal) =>
      serial(async () => {
        const view = await must(id);
        return send(id, { type: 'runResumed', run: currentRun(view), at: now() }, principal);
      }),
    cancel: (id, principal, why) =>
      serial(async () => {
        const view = await must(id);
        return send(
          id,
          { type: 'runCancelled', run: currentRun(view), at: now(), ...(why ? { why } : {}) },
          principal,
        );
      }),
    remove: (id, principal) =>
      serial(async () => {
        await must(id);
        return send(id, { type: 'learningPipelineRemoved', at: now() }, principal);
      }),
    get,
    stateAt: async (id, revision) => asView(await host.stateAt(address(id), { revision })),
    async list() {
      const views = await Promise.all((await known()).map(get));
      return views.filter((v): v is LearningPipelineView => v !== null);
    },
    tick: () => ticker.tick(),
    async labelsNeededFrom(kind, at) {
      let needed: { from: number; by: string } | null = null;
      for (const view of await Promise.all((await known()).map(get))) {
        const d = view?.context.definition;
        if (!view || !d || view.state === 'removed') continue;
        const label = (d.dataset as { label?: { kind?: string; horizonMs?: number } }).label;
        if (!label || (kind === 'alerts') !== (label.kind === 'alert')) continue;
        // The window (and its lags' warm-up, generously a day) and the labels' horizon after it.
        const from = at - d.windowMs - 86_400_000;
        if (!needed || from < needed.from) needed = { from, by: `learningpipeline-${view.id}` };
      }
      return needed;
    },
  };
}
