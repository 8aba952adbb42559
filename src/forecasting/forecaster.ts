import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import type { ActorHost } from '../actors/host.js';
import {
  type ChangedBy,
  contextOf,
  NotRunningError,
  recordEntryChange,
  serialQueue,
} from '../configuration/common.js';
import type { ConfigEntry, EntryCommand } from '../domain/configuration/entry.js';
import { checkFact, factVersion, readFactOf } from '../domain/facts.js';
import {
  type ForecastMade,
  type ForecastScored,
  forecastIdOf,
  scoreDueAt,
  scoreForecast,
} from '../domain/forecasting/forecasts.js';
import {
  type ForecastRuleDefinition,
  type ForecastRulesState,
  forecastRuleFact,
  initialForecastRules,
} from '../domain/forecasting/rules.js';
import { envelope } from '../runtime/envelope.js';
import { createTicker } from '../runtime/ticker.js';
import { timeSlicer } from '../runtime/yield.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import { type EventStore, type JsonValue, WrongExpectedVersionError } from '../stores/event-store/port.js';
import {
  actualsOf,
  type ForecastMethod,
  type ForecastRequest,
  forecastSeries,
  type SeriesForecast,
} from './compute.js';

export type { ChangedBy };

const NAMESPACE = '4a4f1c2e-6b1d-4f0e-9c3a-8e2d5b7a9f10';
const PRINCIPAL = 'system:forecaster';

export interface ForecasterStatus {
  readonly running: boolean;
  readonly rules: number;
  readonly forecastsMade: number;
  readonly forecastsScored: number;
  readonly lastError: string | null;
}

/**
 * Forecast rules as facts (`forecastrules-<id>`) and the one runtime that follows them: every `every`
 * ms per active rule it forecasts each matching series and appends the `forecastMade` facts of the run
 * together to `forecasts-<ruleId>`; once a forecast's buckets have ended and `scoreDelayMs` more have
 * passed (for late samples), it appends its `forecastScored`. What was made and scored is folded from
 * those streams at start, and every append is at the stream's exact next revision with ids derived from
 * the forecast, so a restart (or a second instance) neither repeats nor skips a forecast's score.
 */
export interface Forecaster {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Records a change to a rule (principal `who.by`); it takes effect at the next tick. */
  change(
    id: string,
    command: EntryCommand<ForecastRuleDefinition>,
    who: ChangedBy,
  ): Promise<ConfigEntry<ForecastRuleDefinition>>;
  list(): Promise<readonly ConfigEntry<ForecastRuleDefinition>[]>;
  /** A forecast of every series the request selects, computed now and not recorded (off the event loop's long turns). */
  forecastNow(request: ForecastRequest): Promise<SeriesForecast[]>;
  /** Runs what is due now (forecasts, then scores) and resolves when it is done: for tests and ticks. */
  tick(): Promise<void>;
  status(): ForecasterStatus;
}

export interface ForecasterOptions {
  readonly id?: string;
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  readonly method: ForecastMethod;
  /** How often it looks for what is due. */
  readonly tickMs: number;
  /** How long after a forecast's last bucket has ended it waits for late samples before scoring. */
  readonly scoreDelayMs: number;
  readonly now?: () => number;
}

/** What one rule's forecasts stream says: its revision, when it last forecast, what awaits its score. */
interface RuleStream {
  revision: bigint | null;
  lastMadeAt: number | null;
  readonly unscored: Map<string, ForecastMade>;
}

export function createForecaster(options: ForecasterOptions): Forecaster {
  const { host, events, analytics } = options;
  const id = options.id ?? 'main';
  const address = { kind: 'forecastrules', id };
  const log = options.logger.child({ component: 'forecaster' });
  const now = options.now ?? Date.now;
  const serial = serialQueue();
  const streams = new Map<string, RuleStream>();
  const slicer = timeSlicer();
  let stopped = false;
  let started = false;
  let made = 0;
  let scored = 0;
  let lastError: string | null = null;
  let ruleCount = 0;

  const stateOf = () => contextOf<ForecastRulesState>(host, address, () => initialForecastRules(id));

  async function streamOf(ruleId: string): Promise<RuleStream> {
    const known = streams.get(ruleId);
    if (known) return known;
    const folded: RuleStream = { revision: null, lastMadeAt: null, unscored: new Map() };
    for await (const event of events.readStream(`forecasts-${ruleId}`)) {
      folded.revision = event.revision;
      const fact = readFactOf(event, 'forecastMade', 'forecastScored');
      if (fact.type === 'forecastMade') {
        folded.unscored.set(fact.data.forecastId, fact.data);
        folded.lastMadeAt = Math.max(folded.lastMadeAt ?? 0, fact.data.madeAt);
      } else folded.unscored.delete(fact.data.forecastId);
    }
    streams.set(ruleId, folded);
    return folded;
  }

  /** Appends facts to `forecasts-<ruleId>` at its exact next revision; a conflict re-folds the stream. */
  async function append(
    ruleId: string,
    stream: RuleStream,
    facts: readonly (
      | { type: 'forecastMade'; data: ForecastMade }
      | { type: 'forecastScored'; data: ForecastScored }
    )[],
  ): Promise<boolean> {
    if (!facts.length) return true;
    const streamId = `forecasts-${ruleId}`;
    try {
      const result = await events.append(
        streamId,
        facts.map((f) => {
          const eventId = uuidv5(`${streamId}:${f.type}:${f.data.forecastId}`, NAMESPACE);
          return {
            id: eventId,
            type: f.type,
            data: checkFact(f.type, f.data) as unknown as JsonValue,
            metadata: envelope(
              { principal: PRINCIPAL, schemaVersion: factVersion(f.type), causationId: `rule:${ruleId}` },
              eventId,
            ),
          };
        }),
        { expectedRevision: stream.revision === null ? 'noStream' : stream.revision },
      );
      stream.revision = result.nextExpectedRevision;
      return true;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        // Another writer got there first: fold again and decide anew at the next tick.
        streams.delete(ruleId);
        return false;
      }
      throw error;
    }
  }

  async function forecastRule(rule: ForecastRuleDefinition, stream: RuleStream, at: number): Promise<void> {
    const results = await forecastSeries(
      analytics,
      options.method,
      {
        selector: rule.selector,
        stepMs: rule.stepMs,
        horizon: rule.horizon,
        history: rule.history,
        period: rule.period ?? null,
      },
      at,
      slicer,
    );
    const facts = results.map((r) => ({
      type: 'forecastMade' as const,
      data: {
        ruleId: rule.id,
        forecastId: forecastIdOf(r.series.seriesId, at),
        seriesId: r.series.seriesId,
        madeAt: at,
        stepMs: rule.stepMs,
        historyFrom: r.historyFrom,
        historyPoints: r.historyPoints,
        scale: r.scale,
        points: r.points,
        settings: {
          method: r.settings.method,
          period: r.settings.period,
          params: { ...r.settings.params },
          cvError: r.settings.cvError,
        },
      },
    }));
    // A run with nothing to forecast is not recorded; it is tried again after `every`.
    if (!facts.length) {
      stream.lastMadeAt = at;
      return;
    }
    if (await append(rule.id, stream, facts)) {
      for (const f of facts) stream.unscored.set(f.data.forecastId, f.data);
      stream.lastMadeAt = at;
      made += facts.length;
    }
  }

  async function scoreRule(ruleId: string, stream: RuleStream, at: number): Promise<void> {
    const due = [...stream.unscored.values()].filter((f) => scoreDueAt(f, options.scoreDelayMs) <= at);
    if (!due.length) return;
    const facts: { type: 'forecastScored'; data: ForecastScored }[] = [];
    for (const f of due) {
      const actuals = await actualsOf(analytics, f.seriesId, f.points, f.stepMs);
      facts.push({
        type: 'forecastScored',
        data: {
          ruleId,
          forecastId: f.forecastId,
          seriesId: f.seriesId,
          madeAt: f.madeAt,
          scoredAt: at,
          stepMs: f.stepMs,
          ...scoreForecast(f, actuals),
        },
      });
    }
    if (await append(ruleId, stream, facts)) {
      for (const f of facts) stream.unscored.delete(f.data.forecastId);
      scored += facts.length;
    }
  }

  async function runDue(): Promise<void> {
    const state = await stateOf();
    const entries = Object.values(state.rules);
    ruleCount = entries.filter((e) => e.status === 'active').length;
    for (const entry of entries) {
      if (stopped) return;
      const rule = entry.definition;
      try {
        const stream = await streamOf(rule.id);
        const at = now();
        if (entry.status === 'active' && (stream.lastMadeAt === null || at >= stream.lastMadeAt + rule.every))
          await forecastRule(rule, stream, at);
        // Forecasts already made are scored even when their rule is paused or deleted.
        await scoreRule(rule.id, await streamOf(rule.id), now());
        lastError = null;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        log.warn({ err: error, rule: rule.id }, 'forecast rule run failed; tried again at the next tick');
      }
    }
  }

  const ticker = createTicker(runDue, options.tickMs);
  const tick = () => ticker.tick();

  async function apply(
    ruleId: string,
    command: EntryCommand<ForecastRuleDefinition>,
    who: ChangedBy,
  ): Promise<ConfigEntry<ForecastRuleDefinition>> {
    if (stopped) throw new NotRunningError('forecast rules');
    await recordEntryChange({
      host,
      address,
      what: 'forecast rule',
      id: ruleId,
      before: (await stateOf()).rules[ruleId],
      command,
      who,
      at: now(),
      factOf: (c, stamp) => forecastRuleFact(ruleId, c, stamp),
    });
    const entry = (await stateOf()).rules[ruleId];
    if (!entry) throw new Error(`forecast rule ${ruleId} has no configuration after its change`);
    if (started && entry.status === 'active') void tick();
    return entry;
  }

  return {
    async start() {
      started = true;
      ticker.start();
    },
    async stop() {
      stopped = true;
      await ticker.stop();
    },
    change: (ruleId, command, who) => serial(() => apply(ruleId, command, who)),
    list: async () => Object.values((await stateOf()).rules),
    forecastNow: (request) => forecastSeries(analytics, options.method, request, now(), timeSlicer()),
    tick,
    status: () => ({
      running: started && !stopped,
      rules: ruleCount,
      forecastsMade: made,
      forecastsScored: scored,
      lastError,
    }),
  };
}
