import type { Logger } from 'pino';
import type { AlertManagerContext } from '../actors/alertmanager.machine.js';
import type { ActorHost } from '../actors/host.js';
import {
  type AlertTransition,
  createAlertEngine,
  type Notification,
  type Observation,
} from '../domain/alerting/engine.js';
import type { AlertRule, Silence } from '../domain/alerting/rules.js';
import { ConflictError } from '../domain/errors.js';
import { decodeBatch } from '../domain/metrics/batch.js';
import { seriesId } from '../domain/metrics/identity.js';
import type { SeriesDef } from '../domain/metrics/kinds.js';
import { createProgress } from '../runtime/progress.js';
import { supervise, wakeableSleep } from '../runtime/supervise.js';
import type { EventStore, Position, RecordedEvent } from '../stores/event-store/port.js';
import { postWebhook } from './webhook.js';

export interface AlertManagerOptions {
  readonly id?: string;
  readonly rules: readonly AlertRule[];
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** Where notifications are posted; none: they are only recorded and published. */
  readonly webhookUrl?: string;
  /** How often the clock is applied (for-durations, absence, escalation). */
  readonly tickMs?: number;
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
  /** Resolves once every source event up to `position` (default: the head now) has been evaluated. */
  waitFor(position?: Position | null): Promise<void>;
  context(): Promise<AlertManagerContext>;
}

const FILTER = {
  categories: ['samples', 'findings', 'complex'],
  eventTypes: ['batchFlushed', 'anomalyDetected', 'patternMatched', 'complexEventDetected'],
};

/**
 * The alert manager: evaluates alert rules on the log (samples and anomaly findings) and on the clock,
 * records every transition, silence and notification in its actor stream `alertmanager-<id>`, and
 * posts grouped notifications to a webhook with retries. Its alert state is the fold of that stream,
 * so a restart continues exactly where the recorded facts left off; re-evaluation after a restart is
 * deduplicated by command ids derived from each transition.
 */
export function createAlertManager(options: AlertManagerOptions): AlertManager {
  const { events, host, logger, rules } = options;
  const id = options.id ?? 'main';
  const address = { kind: 'alertmanager', id };
  const log = logger.child({ alertmanager: id });
  const now = options.now ?? Date.now;
  const engine = createAlertEngine(rules);
  const { sleep, wakeAll } = wakeableSleep();
  let processed: Position | null = null;
  let stopRequested = false;
  let running: Promise<void> | null = null;
  let closeSubscription: (() => Promise<void>) | null = null;
  let ticker: NodeJS.Timeout | null = null;
  let queue: Promise<void> = Promise.resolve();
  const progress = createProgress({ events, filter: FILTER, position: () => processed });

  /** Work on the engine and the actor stays in order: observations, ticks and commands alike. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  };

  /** Records a fact; false when its command id shows it was recorded before (a re-evaluation). */
  async function send(event: Record<string, unknown>, commandId?: string): Promise<boolean> {
    const result = await host.send(address, event, {
      principal: `actor:alertmanager-${id}`,
      ...(commandId ? { commandId } : {}),
    });
    return !result.duplicate;
  }

  async function record(
    transitions: readonly AlertTransition[],
    sourcePosition: Position | null,
  ): Promise<void> {
    for (const [n, t] of transitions.entries()) {
      const a = t.alert;
      await send(
        {
          type: t.type,
          key: a.key,
          rule: a.rule,
          seriesId: a.seriesId,
          labels: a.labels,
          severity: a.severity,
          value: a.value,
          since: a.since,
          at: t.at,
          sourcePosition: sourcePosition?.toString() ?? null,
          ...(t.type === 'alertEscalated' ? { from: t.from } : {}),
          ...(t.type === 'alertAcknowledged' ? { by: t.by } : {}),
        },
        // Caused by a source event: named by it, so re-evaluating it after a restart records nothing twice.
        // Numbered within the source event: one batch can move an alert more than once.
        sourcePosition === null ? `${t.type}:${a.key}:${t.at}` : `${t.type}:${a.key}:@${sourcePosition}:${n}`,
      );
    }
  }

  /**
   * A notification's stable id, what a receiver deduplicates on: named after the source event that
   * caused it (so re-evaluating that event after a restart raises the same one), or after the clock
   * time of the tick that caused it.
   */
  const notificationId = (n: Notification, sourcePosition: Position | null) =>
    `${n.rule}|${JSON.stringify(n.group)}|${n.reason}|${sourcePosition === null ? n.at : `@${sourcePosition}`}`;

  interface Outgoing {
    readonly notification: Notification;
    readonly id: string;
  }

  /**
   * Records each decided notification (the live subscription's feed), before the transitions that
   * caused it: a crash in between re-evaluates the source event after the restart, and the same
   * notification is answered as already recorded. Returns the newly raised ones for delivery, which
   * starts once the transitions are recorded too.
   */
  async function raise(
    notifications: readonly Notification[],
    sourcePosition: Position | null,
  ): Promise<Outgoing[]> {
    const outgoing: Outgoing[] = [];
    for (const n of notifications) {
      const notification = notificationId(n, sourcePosition);
      const raised = await send(
        {
          type: 'notificationRaised',
          id: notification,
          delivery: options.webhookUrl !== undefined,
          rule: n.rule,
          reason: n.reason,
          severity: n.severity,
          group: n.group,
          alerts: n.alerts.map((a) => a.key),
          rootCause: n.rootCause,
          at: n.at,
        },
        `notify:${notification}`,
      );
      // One raised before a failure is delivered by the restart's redelivery, not twice.
      if (raised) outgoing.push({ notification: n, id: notification });
    }
    return outgoing;
  }

  /**
   * Deliveries run on their own ordered chain, so a slow or failing webhook (up to 5 attempts with
   * backoff) never holds up evaluation, ticks or acknowledgements.
   */
  let deliveries: Promise<void> = Promise.resolve();
  function dispatch(outgoing: readonly Outgoing[]): void {
    if (!outgoing.length) return;
    deliveries = deliveries
      .then(() => deliver(outgoing))
      .catch((error: unknown) => log.error({ err: error }, 'alert delivery failed'));
  }

  async function deliver(outgoing: readonly Outgoing[]): Promise<void> {
    for (const { notification: n, id } of outgoing) {
      options.onNotification?.(n);
      if (!options.webhookUrl) continue;
      // The stable id lets a receiver drop a notification delivered twice (a retry after a lost reply).
      const result = await postWebhook(options.webhookUrl, { ...n, id });
      const common = {
        id,
        rule: n.rule,
        reason: n.reason,
        receiver: 'webhook',
        attempts: result.attempts,
        at: now(),
      };
      if (result.ok) {
        await send({
          type: 'notificationSent',
          ...common,
          severity: n.severity,
          group: n.group,
          alerts: n.alerts.map((a) => a.key),
          rootCause: n.rootCause,
        });
      } else {
        log.warn({ rule: n.rule, error: result.error }, 'alert notification failed');
        await send({
          type: 'notificationFailed',
          ...common,
          error: (result.error ?? 'unknown').slice(0, 2000),
        });
      }
    }
  }

  function observationsOf(event: RecordedEvent): Observation[] {
    if (event.type === 'complexEventDetected') {
      const d = event.data as { rule: string; ts: number; group: Record<string, string>; causes: string[] };
      // A complex event is "series" named by its rule, labelled by its group.
      const def: SeriesDef = {
        id: seriesId(d.rule, d.group),
        name: d.rule,
        labels: d.group,
        kind: 'gauge',
        role: 'value',
        family: d.rule,
        unit: '',
      };
      return [{ def, ts: d.ts, value: d.causes.length, complexEvent: d.rule }];
    }
    if (event.type === 'anomalyDetected' || event.type === 'patternMatched') {
      const d = event.data as {
        seriesId: string;
        name: string;
        labels: Record<string, string>;
        ts: number;
        value?: number;
        score?: number;
        pattern?: string;
        distance?: number;
      };
      // A finding names its series; the alert engine needs only its identity, name and labels.
      const def: SeriesDef = {
        id: d.seriesId,
        name: d.name,
        labels: d.labels,
        kind: 'gauge',
        role: 'value',
        family: d.name,
        unit: '',
      };
      return event.type === 'anomalyDetected'
        ? [{ def, ts: d.ts, value: d.value!, anomalyScore: d.score! }]
        : [{ def, ts: d.ts, value: d.distance!, pattern: d.pattern! }];
    }
    const batch = decodeBatch(event.data);
    return Array.from(batch.values, (value, i) => ({
      def: batch.series[batch.seriesIndex[i]!]!,
      ts: batch.timestamps[i]!,
      value,
    }));
  }

  /** Series absence rules watch, as recorded: each is recorded once, when first seen. */
  const watched = new Set<string>();
  async function watch(observations: readonly Observation[]): Promise<void> {
    for (const o of observations) {
      if (watched.has(o.def.id) || !engine.watchesAbsence(o.def)) continue;
      await send(
        {
          type: 'seriesWatched',
          seriesId: o.def.id,
          name: o.def.name,
          labels: o.def.labels,
          value: o.value,
          at: now(),
        },
        `watch:${o.def.id}`,
      );
      watched.add(o.def.id);
    }
  }

  /**
   * Notifications recorded as raised whose delivery was never recorded (the process stopped in
   * between) are delivered now, under the same id, so a receiver that did get one can drop the copy.
   * Their alerts are shown as they stand now.
   */
  let redelivered = false;
  async function redeliver(state: AlertManagerContext | undefined): Promise<void> {
    if (redelivered || !state) return;
    redelivered = true;
    const pending = Object.values(state.undelivered ?? {});
    if (!pending.length) return;
    if (!options.webhookUrl) {
      for (const raised of pending)
        await send({
          type: 'notificationFailed',
          id: raised.id,
          rule: raised.rule,
          reason: raised.reason,
          receiver: 'webhook',
          error: 'no webhook is configured any more',
          attempts: 1,
          at: now(),
        });
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

  async function follow(): Promise<void> {
    const state = (await host.get(address).catch(() => null))?.context as AlertManagerContext | undefined;
    engine.restore(Object.values(state?.alerts ?? {}) as never);
    engine.setSilences(Object.values(state?.silences ?? {}));
    await redeliver(state);
    watched.clear();
    for (const id of Object.keys(state?.watched ?? {})) watched.add(id);
    engine.restoreWatched(
      Object.entries(state?.watched ?? {}).map(([seriesId, w]) => ({
        def: {
          id: seriesId,
          name: w.name,
          labels: w.labels,
          kind: 'gauge',
          role: 'value',
          family: w.name,
          unit: '',
        },
        value: w.value,
      })),
      now(),
    );
    // The newest source event with a recorded fact is evaluated again: if only some of its facts were
    // recorded before a failure, the rest are recorded now (those already there are answered as
    // duplicates by their command ids; the restored state makes the others come out unchanged).
    processed = state?.sourcePosition ? BigInt(state.sourcePosition) - 1n : null;
    progress.advanced(); // a wait from before the failure may already be satisfied
    const subscription = events.subscribeToAll({
      ...(processed === null ? {} : { after: processed }),
      filter: FILTER,
    });
    closeSubscription = () => subscription.close();
    try {
      for await (const message of subscription) {
        if (stopRequested) break;
        if (message.kind === 'caughtUp') continue;
        const event = message.event;
        await serial(async () => {
          const observations = observationsOf(event);
          const { transitions, notifications } = engine.observeAll(observations, now());
          const outgoing = await raise(notifications, event.position);
          await record(transitions, event.position);
          await watch(observations);
          dispatch(outgoing);
        });
        processed = event.position;
        progress.advanced();
      }
      if (!stopRequested) throw new Error('the event store ended the subscription');
    } finally {
      await subscription.close();
      closeSubscription = null;
    }
  }

  const manager: AlertManager = {
    async start() {
      if (running) return;
      stopRequested = false;
      running = supervise({
        work: follow,
        stopped: () => stopRequested,
        sleep,
        onFailure: (error, attempt) => log.error({ err: error, attempt }, 'alert manager failed; resuming'),
      }).finally(() => {
        running = null;
      });
      ticker = setInterval(() => {
        manager.tick().catch((error: unknown) => log.warn({ err: error }, 'alert tick failed'));
      }, options.tickMs ?? 5000);
      ticker.unref();
    },

    async stop() {
      stopRequested = true;
      if (ticker) clearInterval(ticker);
      wakeAll();
      await closeSubscription?.();
      await running;
      await queue;
      await deliveries;
    },

    tick: async () => {
      await serial(async () => {
        const { transitions, notifications } = engine.tick(now());
        const outgoing = await raise(notifications, null);
        await record(transitions, null);
        dispatch(outgoing);
      });
      await deliveries;
    },

    acknowledge: (key, by) =>
      serial(async () => {
        const transition = engine.acknowledge(key, by, now());
        if (!transition) return false;
        await record([transition], null);
        return true;
      }),

    silence: (silence, by) =>
      serial(async () => {
        const before = (await host.get(address).catch(() => null))?.context as
          | AlertManagerContext
          | undefined;
        if (before?.silences[silence.id])
          throw new ConflictError(`silence ${silence.id} exists already: remove it first, or use another id`);
        await send({ type: 'silenceCreated', silence: { ...silence, createdBy: silence.createdBy || by } });
        const state = (await host.get(address)).context as AlertManagerContext;
        engine.setSilences(Object.values(state.silences));
      }),

    unsilence: (silenceId, _by) =>
      serial(async () => {
        await send({ type: 'silenceRemoved', id: silenceId, at: now() });
        const state = (await host.get(address)).context as AlertManagerContext;
        engine.setSilences(Object.values(state.silences));
      }),

    async waitFor(position) {
      await progress.waitFor(position);
      await queue;
      await deliveries;
    },

    async context() {
      return (await host.get(address).catch(() => ({ context: null })))?.context as AlertManagerContext;
    },
  };
  return manager;
}
