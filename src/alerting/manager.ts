import pRetry from 'p-retry';
import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import { type Cadence, cadenceOf } from '../domain/alerting/cadence.js';
import {
  type AlertTransition,
  cadenceCandidates,
  type Decision,
  decideAcknowledge,
  decideObservations,
  decideTick,
  type Notification,
  type Observation,
} from '../domain/alerting/decide.js';
import type { AlertEvent } from '../domain/alerting/events.js';
import { decideRuleChange } from '../domain/alerting/rule-changes.js';
import type { AlertRule, Silence } from '../domain/alerting/rules.js';
import {
  type AlertManagerState,
  evolveAlerts,
  initialAlertState,
  rulesInForce,
} from '../domain/alerting/state.js';
import type { ChangeOrigin, ConfigEntry, EntryCommand } from '../domain/configuration/entry.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { readFactOf } from '../domain/facts.js';
import { decodePayload } from '../domain/metrics/batch.js';
import { seriesId } from '../domain/metrics/identity.js';
import type { SeriesDef } from '../domain/metrics/kinds.js';
import { type ConsumerStatus, createLogConsumer } from '../runtime/log-consumer.js';
import type { EventStore, Position, RecordedEvent } from '../stores/event-store/port.js';
import { postWebhook } from './webhook.js';

export interface AlertManagerOptions {
  readonly id?: string;
  /**
   * Rules fixed by whoever embeds the manager (tools, tests): in force unless a recorded fact changes a
   * rule of the same id, and never recorded themselves. The service passes none: its rules are facts
   * in the manager's stream (`changeRule`), seeded from ALERT_RULES_FILE.
   */
  readonly rules?: readonly AlertRule[];
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** Where notifications are posted; none: they are only recorded and published. */
  readonly webhookUrl?: string;
  /** How often the clock is applied (for-durations, absence, escalation). */
  readonly tickMs?: number;
  /**
   * The times of the last samples of these series (for absence rules with `missedIntervals`: their
   * cadence); without it such rules watch nothing.
   */
  readonly recentTimes?: (seriesIds: readonly string[]) => Promise<Map<string, number[]>>;
  /** Idle series are evicted after this much silence (an absence must fire well before it). */
  readonly evictAfterMs?: number;
  readonly now?: () => number;
  /** Called with every notification after it is decided (the live subscription's feed). */
  readonly onNotification?: (notification: Notification) => void;
}

export interface AlertManager {
  start(): Promise<void>;
  stop(): Promise<void>;
  acknowledge(key: string, by: string): Promise<boolean>;
  silence(silence: Silence, by: string): Promise<void>;
  unsilence(id: string, by: string): Promise<void>;
  /** Applies the clock now (also done every `tickMs`). */
  tick(): Promise<void>;
  /**
   * Changes one rule: the change is decided on the manager's state, recorded in its stream (with `by`
   * as the principal) and in force for every source event evaluated after it. Returns the rule's entry
   * after the change (unchanged when it was so already). Throws ConflictError / NotFoundError.
   */
  changeRule(
    id: string,
    command: EntryCommand<AlertRule>,
    by: string,
    options?: { readonly origin?: ChangeOrigin; readonly commandId?: string },
  ): Promise<ConfigEntry<AlertRule> | null>;
  /** Every rule it has a record of (deleted ones included), from its folded state (loaded if need be). */
  rules(): Promise<readonly ConfigEntry<AlertRule>[]>;
  /** Resolves once every source event up to `position` (default: the head now) has been evaluated. */
  waitFor(position?: Position | null): Promise<void>;
  /** The state its decisions use: exactly the fold of its stream. */
  context(): Promise<AlertManagerState>;
  status(): ConsumerStatus;
}

const INPUTS = ['batchFlushed', 'anomalyDetected', 'patternMatched', 'complexEventDetected'] as const;
const FILTER = { categories: ['samples', 'findings', 'complex'], eventTypes: [...INPUTS] };

/** A finding or complex event as the series the rules match: its identity, name and labels. */
const findingSeries = (id: string, name: string, labels: Record<string, string>): SeriesDef => ({
  id,
  name,
  labels,
  kind: 'gauge',
  role: 'value',
  family: name,
  unit: '',
});

/** What the rules see of a source event. */
function observationsOf(event: RecordedEvent): Observation[] {
  const fact = readFactOf(event, ...INPUTS);
  switch (fact.type) {
    case 'complexEventDetected': {
      const d = fact.data; // a complex event is a "series" named by its rule, labelled by its group
      return [
        {
          def: findingSeries(seriesId(d.rule, d.group), d.rule, d.group),
          ts: d.ts,
          value: d.causes.length,
          complexEvent: d.rule,
        },
      ];
    }
    case 'anomalyDetected': {
      const d = fact.data;
      return [
        { def: findingSeries(d.seriesId, d.name, d.labels), ts: d.ts, value: d.value, anomalyScore: d.score },
      ];
    }
    case 'patternMatched': {
      const d = fact.data;
      return [
        { def: findingSeries(d.seriesId, d.name, d.labels), ts: d.ts, value: d.distance, pattern: d.pattern },
      ];
    }
    case 'batchFlushed': {
      const batch = decodePayload(fact.data);
      return Array.from(batch.values, (value, i) => ({
        def: batch.series[batch.seriesIndex[i]!]!,
        ts: batch.timestamps[i]!,
        value,
      }));
    }
  }
}

/**
 * The alert manager: a decider on the log. Source events (samples, anomaly and pattern findings,
 * complex events), clock ticks and commands go through pure decisions (`decideObservations`,
 * `decideTick`, `decideAcknowledge`) into facts in its stream `alertmanager-<id>`; its state is the
 * fold of those facts through `evolveAlerts` and nothing else, so a restart rebuilds it exactly.
 * Grouped notifications are posted to a webhook with retries, on their own chain.
 *
 * Each decision is recorded whole in one append (notifications, transitions, what it observed), named
 * by its source event. Evaluation resumes after the newest source event with a recorded decision; a
 * decision recorded just before a failure is answered as a duplicate if evaluated again, so a
 * notification is raised once, and one raised but not delivered is delivered after the restart.
 */
export function createAlertManager(options: AlertManagerOptions): AlertManager {
  const { events, host, logger } = options;
  const fixed = options.rules ?? [];
  const id = options.id ?? 'main';
  const address = { kind: 'alertmanager', id };
  const principal = `actor:alertmanager-${id}`;
  const log = logger.child({ alertmanager: id });
  const now = options.now ?? Date.now;
  let state: AlertManagerState = initialAlertState(id);
  /** Whether `state` is the fold of the stream yet (it is once loaded, and stays so by folding what it records). */
  let loaded = false;
  /** The last source event evaluated (decided, or passed over with no rule in force). */
  let evaluated: Position | null = null;
  let ticker: NodeJS.Timeout | null = null;
  let inForce: { readonly of: AlertManagerState['rules']; readonly rules: readonly AlertRule[] } | null =
    null;
  /** The rules in force in the current state (recomputed only when its rules change). */
  const currentRules = (): readonly AlertRule[] => {
    if (inForce?.of !== state.rules) inForce = { of: state.rules, rules: rulesInForce(state, fixed) };
    return inForce.rules;
  };
  let queue: Promise<void> = Promise.resolve();

  /** Work on the state stays in order: source events, ticks and commands alike. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };

  /** The event a fact was decided from, as the envelope inherits from it (causation, correlation, caller). */
  const sourceOf = (event: RecordedEvent) => ({
    id: event.id,
    position: event.position,
    metadata: event.metadata,
  });

  /**
   * Records a fact and folds it into the state; false when its command id shows it was recorded before.
   * `by` is the caller who asked (an acknowledgement, a silence), recorded as the fact's principal.
   */
  async function record(
    fact: AlertEvent,
    commandId: string | undefined,
    options: { readonly source?: RecordedEvent; readonly by?: string } = {},
  ): Promise<boolean> {
    const result = await host.sendAll(address, [fact], {
      principal: options.by ?? principal,
      ...(commandId ? { commandId } : {}),
      ...(options.source ? { source: sourceOf(options.source) } : {}),
    });
    if (result.duplicate) return false;
    state = evolveAlerts(state, fact);
    return true;
  }

  /** A notification's stable id, what a receiver deduplicates on: named after its source event, or the tick's time. */
  const notificationId = (n: Notification, sourcePosition: Position | null) =>
    `${n.rule}|${JSON.stringify(n.group)}|${n.reason}|${sourcePosition === null ? n.at : `@${sourcePosition}`}`;

  interface Outgoing {
    readonly notification: Notification;
    readonly id: string;
  }

  /**
   * Records a decision — its notifications, transitions and what it observed — as one append, so that
   * it is recorded whole or not at all, then folds it into the state. Returns the notifications it
   * raised, for delivery.
   */
  async function apply(decision: Decision, source: RecordedEvent | null): Promise<Outgoing[]> {
    const position = source?.position ?? null;
    const outgoing = decision.notifications.map((n) => ({
      notification: n,
      id: notificationId(n, position),
    }));
    const facts: AlertEvent[] = [
      ...outgoing.map(
        ({ notification: n, id: nid }): AlertEvent => ({
          type: 'notificationRaised',
          id: nid,
          delivery: options.webhookUrl !== undefined,
          rule: n.rule,
          reason: n.reason,
          severity: n.severity,
          group: n.group,
          alerts: n.alerts.map((a) => a.key),
          rootCause: n.rootCause,
          at: n.at,
        }),
      ),
      ...decision.transitions,
      ...(decision.observed ? [decision.observed] : []),
    ];
    if (!facts.length) return [];
    await host.sendAll(address, facts, {
      principal,
      // No command id: a decision is never taken twice (evaluation resumes after the newest source
      // event with a recorded decision, and the state it starts from is the fold of the stream), and
      // command ids would be kept in the host's memory for every decision ever taken.
      ...(source ? { source: sourceOf(source) } : {}),
    });
    for (const fact of facts) state = evolveAlerts(state, fact);
    return outgoing;
  }

  /** Deliveries run on their own ordered chain: a slow webhook never holds up evaluation. */
  let deliveries: Promise<void> = Promise.resolve();
  /** Notifications handed to the chain by this process (a redelivery never queues one twice). */
  const dispatched = new Set<string>();
  function dispatch(outgoing: readonly Outgoing[]): void {
    outgoing = outgoing.filter((o) => !dispatched.has(o.id));
    if (!outgoing.length) return;
    for (const o of outgoing) dispatched.add(o.id);
    deliveries = deliveries
      .then(() => deliver(outgoing))
      .catch((error: unknown) => log.error({ err: error }, 'alert delivery failed'));
  }

  async function deliver(outgoing: readonly Outgoing[]): Promise<void> {
    for (const { notification: n, id: nid } of outgoing) {
      options.onNotification?.(n);
      if (!options.webhookUrl) continue;
      // The stable id lets a receiver drop a notification delivered twice (a retry after a lost reply).
      const result = await postWebhook(options.webhookUrl, { ...n, id: nid });
      const common = {
        id: nid,
        rule: n.rule,
        reason: n.reason,
        receiver: 'webhook',
        attempts: result.attempts,
        at: now(),
      };
      if (!result.ok) log.warn({ rule: n.rule, error: result.error }, 'alert notification failed');
      const fact: AlertEvent = result.ok
        ? {
            type: 'notificationSent',
            ...common,
            severity: n.severity,
            group: n.group,
            alerts: n.alerts.map((a) => a.key),
            rootCause: n.rootCause,
          }
        : { type: 'notificationFailed', ...common, error: (result.error ?? 'unknown').slice(0, 2000) };
      // The delivery is a fact too; a store hiccup is retried (left unrecorded, the restart delivers it again).
      await pRetry(() => serial(() => record(fact, `${fact.type}:${nid}`)), {
        retries: 5,
        minTimeout: 50,
        maxTimeout: 2000,
      });
      dispatched.delete(nid);
    }
  }

  /**
   * Notifications recorded as raised whose delivery was never recorded (the process stopped, or a
   * failure came, in between) are delivered now, under the same id, so a receiver that did get one can
   * drop the copy.
   */
  async function redeliver(): Promise<void> {
    const pending = Object.values(state.undelivered).filter((raised) => !dispatched.has(raised.id));
    if (!pending.length) return;
    if (!options.webhookUrl) {
      for (const raised of pending)
        await record(
          {
            type: 'notificationFailed',
            id: raised.id,
            rule: raised.rule,
            reason: raised.reason,
            receiver: 'webhook',
            error: 'no webhook is configured any more',
            attempts: 1,
            at: now(),
          },
          `failed:${raised.id}`,
        );
      return;
    }
    log.info({ count: pending.length }, 'delivering notifications raised before a restart');
    dispatch(
      pending.map((raised) => ({
        id: raised.id,
        notification: {
          rule: raised.rule,
          group: raised.group,
          severity: raised.severity,
          reason: raised.reason,
          alerts: raised.alerts.flatMap((key) => (state.alerts[key] ? [state.alerts[key]] : [])),
          rootCause: raised.rootCause,
          at: raised.at,
        },
      })),
    );
  }

  /**
   * Cadences of the series silent long enough to be asked about, from their stored samples; each kept
   * a minute (a silent series' cadence does not change while it is silent).
   */
  const cadenceCache = new Map<string, { cadence: Cadence | null; at: number }>();
  /** Entries kept at most (the oldest lookups go first past it). */
  const MAX_CADENCES = 100_000;
  async function cadencesOf(seriesIds: readonly string[], at: number): Promise<Map<string, Cadence | null>> {
    const out = new Map<string, Cadence | null>();
    if (!options.recentTimes || !seriesIds.length) return out;
    const stale = seriesIds.filter((id) => {
      const cached = cadenceCache.get(id);
      if (cached && at - cached.at < 60_000) {
        out.set(id, cached.cadence);
        return false;
      }
      return true;
    });
    if (stale.length) {
      // The store failing leaves cadences unknown this tick (nothing is absent for it): the rest of the
      // clock — for-durations, escalations, plain absence — goes on.
      const times = await options.recentTimes(stale).catch((error: unknown) => {
        log.warn(
          { err: error, series: stale.length },
          'could not read cadences; absence after missed intervals waits',
        );
        return null;
      });
      if (!times) return out;
      for (const id of stale) {
        const cadence = cadenceOf(times.get(id) ?? []);
        cadenceCache.delete(id);
        cadenceCache.set(id, { cadence, at });
        if (cadenceCache.size > MAX_CADENCES) cadenceCache.delete(cadenceCache.keys().next().value!);
        out.set(id, cadence);
      }
    }
    return out;
  }

  /** The fold of the stream; an actor with no stream yet starts empty. A store failure is a failure. */
  async function fold(): Promise<AlertManagerState> {
    try {
      return (await host.get(address)).context as AlertManagerState;
    } catch (error) {
      if (error instanceof NotFoundError) return initialAlertState(id);
      throw error;
    }
  }

  /**
   * Where evaluation resumes: after the newest source event with a recorded decision, or rule change
   * (decisions are recorded whole). A manager that never had a rule has nothing to judge the log
   * before now by: it starts at the head, so a rule defined later applies from its definition on.
   */
  async function resumePoint(): Promise<Position | null> {
    if (state.sourcePosition !== null) return BigInt(state.sourcePosition);
    if (fixed.length === 0 && Object.keys(state.rules).length === 0) return events.headPosition();
    return null;
  }

  /** The state is the fold of the stream before any command decides on it. */
  async function ensureLoaded(): Promise<void> {
    if (loaded) return;
    state = await fold();
    loaded = true;
  }

  const consumer = createLogConsumer({
    name: `alertmanager:${id}`,
    events,
    logger: log,
    filter: FILTER,
    handler: {
      async load() {
        const resume = await serial(async () => {
          state = await fold();
          loaded = true;
          evaluated = await resumePoint();
          return evaluated;
        });
        await redeliver();
        return resume;
      },
      async handle(batch) {
        for (const event of batch) {
          await serial(async () => {
            const rules = currentRules();
            // With no rule in force nothing can be decided: the batch is not even decoded.
            if (rules.length) {
              const at = now();
              const decision = decideObservations(
                state,
                rules,
                observationsOf(event),
                at,
                event.position.toString(),
              );
              dispatch(await apply(decision, event));
            }
            evaluated = event.position;
          });
        }
      },
    },
  });

  const manager: AlertManager = {
    async start() {
      consumer.start();
      ticker = setInterval(() => {
        manager.tick().catch((error: unknown) => log.warn({ err: error }, 'alert tick failed'));
      }, options.tickMs ?? 5000);
      ticker.unref();
    },

    async stop() {
      if (ticker) clearInterval(ticker);
      await consumer.stop();
      await queue;
      await deliveries;
    },

    tick: async () => {
      await serial(async () => {
        const rules = currentRules();
        if (!rules.length) return;
        const at = now();
        const cadences = await cadencesOf(cadenceCandidates(state, rules, at), at);
        dispatch(
          await apply(
            decideTick(state, rules, at, {
              cadence: (seriesId) => cadences.get(seriesId),
              ...(options.evictAfterMs === undefined ? {} : { evictAfterMs: options.evictAfterMs }),
            }),
            null,
          ),
        );
      });
      await deliveries;
    },

    acknowledge: (key, by) =>
      serial(async () => {
        const transition: AlertTransition | null = decideAcknowledge(state, key, by, now());
        if (!transition) return false;
        await record(transition, `${transition.type}:${key}:${transition.at}`, { by });
        return true;
      }),

    silence: (silence, by) =>
      serial(async () => {
        if (state.silences[silence.id])
          throw new ConflictError(`silence ${silence.id} exists already: remove it first, or use another id`);
        await record(
          { type: 'silenceCreated', silence: { ...silence, createdBy: silence.createdBy || by } },
          undefined,
          { by },
        );
      }),

    unsilence: (silenceId, by) =>
      serial(async () => {
        if (!state.silences[silenceId]) throw new NotFoundError(`no silence ${silenceId}`);
        await record({ type: 'silenceRemoved', id: silenceId, at: now() }, undefined, { by });
      }),

    changeRule: (ruleId, command, by, changeOptions = {}) =>
      serial(async () => {
        await ensureLoaded();
        const at = now();
        // The rule takes effect after the last source event evaluated: recorded, so a restart agrees.
        const reached = evaluated ?? (await resumePoint());
        const facts = decideRuleChange(state, ruleId, command, {
          by,
          at,
          origin: changeOptions.origin ?? 'api',
          sourcePosition: reached === null ? null : reached.toString(),
        });
        if (facts.length) {
          const result = await host.sendAll(address, facts, {
            principal: by,
            ...(changeOptions.commandId ? { commandId: changeOptions.commandId } : {}),
          });
          if (result.duplicate) state = await fold();
          else for (const fact of facts) state = evolveAlerts(state, fact);
        }
        return state.rules[ruleId] ?? null;
      }),

    rules: () =>
      serial(async () => {
        await ensureLoaded();
        return Object.values(state.rules);
      }),

    async waitFor(position) {
      await consumer.waitFor(position);
      await queue;
      await deliveries;
    },

    async context() {
      await queue;
      return state;
    },

    status: () => consumer.status(),
  };
  return manager;
}
