import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import type { ModelRegistry } from '../actors/model.registry.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { checkFact, factVersion, readFactOf } from '../domain/facts.js';
import {
  appliedAt,
  compareOutcomes,
  type RecommendationCandidate,
  type RecommendationMade,
  type RecommendationScored,
  targetsOf,
} from '../domain/recommendations/facts.js';
import {
  type Candidate,
  type Constraint,
  type Direction,
  feasible,
  grid,
  optimum,
  type ParameterRange,
  paretoFront,
  randomSettings,
  SearchInputError,
} from '../domain/recommendations/search.js';
import { idsOf, rawRange } from '../projections/metric-series/range.js';
import type { SeriesSelector } from '../projections/metric-series/selector.js';
import { envelope } from '../runtime/envelope.js';
import { createTicker } from '../runtime/ticker.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import { type EventStore, type JsonValue, WrongExpectedVersionError } from '../stores/event-store/port.js';

const NAMESPACE = '7c0e54a2-31f4-4d8b-a1c9-5e6f2b8d4a37';
const PRINCIPAL = 'system:recommender';

export interface RecommendInput {
  /** The client's id for the recommendation: asking again with it answers the recorded one. */
  readonly id: string;
  readonly parameters: readonly (ParameterRange & { readonly selector: SeriesSelector })[];
  readonly objectives: readonly {
    readonly name: string;
    readonly modelId: string;
    readonly version?: number | null;
    /** The series the objective is measured on. */
    readonly selector: SeriesSelector;
    readonly direction?: Direction | null;
    /** Parameter names in the model's feature order; absent: every parameter, in order. */
    readonly features?: readonly string[] | null;
  }[];
  readonly constraints?: readonly Constraint[] | null;
  readonly method?: 'grid' | 'random' | null;
  readonly count?: number | null;
  readonly seed?: number | null;
  readonly tolerance?: number | null;
  readonly windowMs?: number | null;
}

export interface Recommendation {
  readonly made: RecommendationMade;
  readonly scored: RecommendationScored | null;
  readonly by: string | null;
}

export interface RecommenderStatus {
  readonly running: boolean;
  readonly unscored: number;
  readonly scored: number;
  readonly lastError: string | null;
}

/**
 * Recommendations: `recommend` searches parameter settings with deployed models and records what it
 * found as `recommendationMade` in `recommendations-<id>`; on every tick, a recommendation whose
 * parameter series have reached a recommended setting (within its tolerance) and whose window after
 * has passed is scored (`recommendationScored`): each objective series' mean over the window before
 * and after. Unscored recommendations are folded from the log at start; appends are at the stream's
 * exact revision with derived ids, so a restart neither repeats nor skips a score.
 */
export interface Recommender {
  start(): Promise<void>;
  stop(): Promise<void>;
  recommend(input: RecommendInput, caller: { readonly principal: string }): Promise<Recommendation>;
  get(id: string): Promise<Recommendation | null>;
  list(): Promise<Recommendation[]>;
  tick(): Promise<void>;
  status(): RecommenderStatus;
}

const invalid = (path: string, message: string): never => {
  throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
};

export function createRecommender(options: {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly models: ModelRegistry;
  readonly logger: Logger;
  readonly tickMs: number;
  readonly now?: () => number;
}): Recommender {
  const { events, analytics, models } = options;
  const now = options.now ?? Date.now;
  const log = options.logger.child({ component: 'recommender' });
  const unscored = new Map<string, RecommendationMade>();
  let started = false;
  let stopped = false;
  let scoredCount = 0;
  let lastError: string | null = null;

  async function read(id: string): Promise<Recommendation | null> {
    let made: RecommendationMade | null = null;
    let scored: RecommendationScored | null = null;
    let by: string | null = null;
    for await (const event of events.readStream(`recommendations-${id}`)) {
      const fact = readFactOf(event, 'recommendationMade', 'recommendationScored');
      if (fact.type === 'recommendationMade') {
        made = fact.data;
        by = typeof event.metadata.principal === 'string' ? event.metadata.principal : null;
      } else scored = fact.data;
    }
    return made ? { made, scored, by } : null;
  }

  async function one(selector: SeriesSelector, path: string): Promise<string> {
    const ids = await idsOf(analytics, selector);
    if (ids.length !== 1) invalid(path, `selects ${ids.length} series; it must select exactly one`);
    return ids[0]!;
  }

  async function search(input: RecommendInput): Promise<RecommendationMade> {
    if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(input.id)) invalid('id', 'lower-case letters, digits, _ and -');
    const names = input.parameters.map((p) => p.name);
    if (!names.length) invalid('input.parameters', 'give at least one parameter');
    if (new Set(names).size !== names.length) invalid('input.parameters', 'names must differ');
    if (input.objectives.length < 1 || input.objectives.length > 2)
      invalid('input.objectives', 'give one objective, or two for a Pareto front');
    const method = input.method ?? 'grid';
    const tolerance = input.tolerance ?? 1e-6;
    const windowMs = input.windowMs ?? 300_000;
    if (!(tolerance >= 0) || !Number.isFinite(tolerance)) invalid('input.tolerance', 'must be 0 or more');
    if (!Number.isInteger(windowMs) || windowMs < 1)
      invalid('input.windowMs', 'must be a positive whole number');
    const parameters = await Promise.all(
      input.parameters.map(async (p, i) => ({
        name: p.name,
        seriesId: await one(p.selector, `input.parameters.${i}.selector`),
      })),
    );
    let settings: number[][];
    try {
      settings =
        method === 'grid'
          ? grid(input.parameters)
          : randomSettings(input.parameters, input.count ?? 100, input.seed ?? 1);
    } catch (error) {
      if (error instanceof SearchInputError) return invalid(`input.${error.path}`, error.message);
      throw error;
    }
    const objectives = [];
    const predictions: number[][] = [];
    for (const [i, o] of input.objectives.entries()) {
      const features = o.features?.length ? [...o.features] : names;
      const columns = features.map((f) => {
        const at = names.indexOf(f);
        if (at < 0) invalid(`input.objectives.${i}.features`, `${f} is not a parameter`);
        return at;
      });
      const seriesId = await one(o.selector, `input.objectives.${i}.selector`);
      const result = await models.predict(o.modelId, {
        version: o.version ?? null,
        rows: settings.map((s) => columns.map((c) => s[c]!)),
      });
      objectives.push({
        name: o.name,
        seriesId,
        modelId: o.modelId,
        version: result.version,
        direction: o.direction ?? 'minimize',
        features,
      });
      predictions.push(result.predictions);
    }
    const objectiveNames = objectives.map((o) => o.name);
    const constraints = [...(input.constraints ?? [])];
    const candidates: Candidate[] = settings.map((s, r) => ({
      settings: s,
      predicted: predictions.map((p) => p[r]!),
    }));
    let allowed: Candidate[];
    try {
      allowed = candidates.filter(
        (c) => c.predicted.every(Number.isFinite) && feasible(c, constraints, names, objectiveNames),
      );
    } catch (error) {
      if (error instanceof SearchInputError) return invalid(`input.${error.path}`, error.message);
      throw error;
    }
    const plain = (c: Candidate): RecommendationCandidate => ({
      settings: [...c.settings],
      predicted: [...c.predicted],
    });
    const two = objectives.length === 2;
    const best = two ? null : optimum(allowed, objectives[0]!.direction);
    const front = two ? paretoFront(allowed, [objectives[0]!.direction, objectives[1]!.direction]) : [];
    return {
      recommendationId: input.id,
      madeAt: now(),
      parameters,
      objectives,
      constraints: constraints.map((c) => ({ on: c.on, op: c.op, value: c.value })),
      method,
      seed: method === 'random' ? (input.seed ?? 1) : null,
      candidatesEvaluated: candidates.length,
      feasible: allowed.length,
      best: best ? plain(best) : null,
      front: front.map(plain),
      tolerance,
      windowMs,
    };
  }

  async function append(
    id: string,
    type: 'recommendationMade' | 'recommendationScored',
    data: RecommendationMade | RecommendationScored,
    expected: 'noStream' | bigint,
    principal: string,
  ): Promise<boolean> {
    const streamId = `recommendations-${id}`;
    const eventId = uuidv5(`${streamId}:${type}`, NAMESPACE);
    try {
      await events.append(
        streamId,
        [
          {
            id: eventId,
            type,
            data: checkFact(type, data) as unknown as JsonValue,
            metadata: envelope(
              { principal, schemaVersion: factVersion(type), causationId: `recommendation:${id}` },
              eventId,
            ),
          },
        ],
        { expectedRevision: expected },
      );
      return true;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return false;
      throw error;
    }
  }

  async function score(made: RecommendationMade, at: number): Promise<void> {
    const ids = made.parameters.map((p) => p.seriesId);
    const samples = await rawRange(
      analytics,
      { seriesIds: ids },
      { from: new Date(made.madeAt), to: new Date(at) },
    );
    const applied = appliedAt(samples, ids, targetsOf(made), made.tolerance);
    if (!applied || at < applied.at + made.windowMs) return;
    const windowOf = async (seriesId: string, from: number, to: number) =>
      (await rawRange(analytics, { seriesIds: [seriesId] }, { from: new Date(from), to: new Date(to) })).map(
        (s) => s.value,
      );
    const before = await Promise.all(
      made.objectives.map((o) => windowOf(o.seriesId, applied.at - made.windowMs, applied.at)),
    );
    const after = await Promise.all(
      made.objectives.map((o) => windowOf(o.seriesId, applied.at, applied.at + made.windowMs)),
    );
    const scored: RecommendationScored = {
      recommendationId: made.recommendationId,
      scoredAt: at,
      appliedAt: applied.at,
      settings: applied.settings,
      ...compareOutcomes(made.objectives, before, after),
    };
    // The made fact is revision 0: the score is the stream's second fact, once.
    await append(made.recommendationId, 'recommendationScored', scored, 0n, PRINCIPAL);
    unscored.delete(made.recommendationId);
    scoredCount++;
  }

  async function runDue(): Promise<void> {
    for (const made of [...unscored.values()]) {
      if (stopped) return;
      try {
        await score(made, now());
        lastError = null;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        log.warn(
          { err: error, recommendation: made.recommendationId },
          'scoring failed; tried again at the next tick',
        );
      }
    }
  }

  const ticker = createTicker(runDue, options.tickMs);
  const tick = () => ticker.tick();

  async function list(): Promise<Recommendation[]> {
    const ids = new Set<string>();
    for await (const e of events.readAll({ filter: { categories: ['recommendations'] } }))
      ids.add(e.streamId.slice('recommendations-'.length));
    const found = await Promise.all([...ids].map((id) => read(id)));
    return found
      .filter((r): r is Recommendation => r !== null)
      .sort(
        (a, b) =>
          a.made.madeAt - b.made.madeAt || a.made.recommendationId.localeCompare(b.made.recommendationId),
      );
  }

  return {
    async start() {
      for (const r of await list()) if (!r.scored) unscored.set(r.made.recommendationId, r.made);
      started = true;
      ticker.start();
    },
    async stop() {
      stopped = true;
      await ticker.stop();
    },
    async recommend(input, caller) {
      const known = await read(input.id);
      if (known) return known;
      const made = await search(input);
      if (!(await append(input.id, 'recommendationMade', made, 'noStream', caller.principal))) {
        const recorded = await read(input.id);
        if (!recorded) throw new ConflictError(`recommendation ${input.id} could not be recorded`);
        return recorded;
      }
      unscored.set(made.recommendationId, made);
      return { made, scored: null, by: caller.principal };
    },
    get: read,
    list,
    tick,
    status: () => ({ running: started && !stopped, unscored: unscored.size, scored: scoredCount, lastError }),
  };
}
