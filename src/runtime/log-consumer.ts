import type { Logger } from 'pino';
import type {
  EventFilter,
  EventStore,
  Position,
  RecordedEvent,
  SubscriptionMessage,
} from '../stores/event-store/port.js';
import { createProgress } from './progress.js';
import { wakeableSleep } from './wakeable-sleep.js';

/**
 * What one consumer of the log does: restore its state, handle batches of events in log order, and
 * (optionally) prepare the next batch while the previous one is being handled. Checkpointing is part
 * of handling: a consumer records where it is however suits it (rows in ClickHouse, facts in the log).
 */
export interface ConsumerHandler {
  /**
   * Restores the state the consumer's decisions need (from its checkpoint) and says where to read
   * from: events strictly after the returned position (null: from the start). Runs at every start and
   * after every failure, so nothing of a failed run survives. Throwing a ConsumerHaltedError stops the
   * consumer for good.
   */
  load(): Promise<Position | null>;
  /** CPU-only work on a batch (decoding, encoding), done while the previous batch is being handled. */
  prepare?(events: readonly RecordedEvent[]): unknown;
  /** Handles a batch; resolves once its effects are recorded. */
  handle(events: readonly RecordedEvent[], prepared: unknown): Promise<void>;
  /** At a clean stop, after the last batch: a final checkpoint. Not called after a failure. */
  close?(): Promise<void>;
}

export interface LogConsumerOptions {
  /** `<kind>:<name>`, e.g. `projection:metric_series`, `pipeline:cpu`: how health names it. */
  readonly name: string;
  readonly events: EventStore;
  readonly logger: Logger;
  readonly filter: EventFilter;
  /** A further filter the store cannot apply (e.g. "not my own output"). */
  readonly accept?: (event: RecordedEvent) => boolean;
  readonly handler: ConsumerHandler;
  /** Events handled together at most (default 1), and how long a partial batch may wait for more (default 0). */
  readonly batch?: { readonly size: number; readonly maxDelayMs: number };
  readonly now?: () => number;
}

export type ConsumerState = 'stopped' | 'catchingUp' | 'live' | 'retrying' | 'halted';

export interface ConsumerStatus {
  readonly name: string;
  readonly state: ConsumerState;
  /** The last event handled (whose effects are recorded), or null. */
  readonly position: string | null;
  readonly eventsHandled: number;
  readonly lastError: string | null;
  /** Since when it has been failing without progress (ms since the epoch), or null. */
  readonly failingSince: number | null;
  /** Since when the batch being handled has been in hand, or null when idle. */
  readonly busySince: number | null;
  readonly lastProgressAt: number | null;
}

/** Stops a consumer for good (its checkpoint cannot be trusted, a fact cannot be read): health says why. */
export class ConsumerHaltedError extends Error {
  readonly code = 'CONSUMER_HALTED' as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConsumerHaltedError';
  }
}

/** Errors that no retry can cure: the consumer halts instead of failing forever. */
function isHalting(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // A fact of its own that its schema refuses (VALIDATION_FAILED from the host) is a bug, as a poisoned
  // fact read is: retrying would refuse it again, forever.
  return (
    code === 'CONSUMER_HALTED' ||
    code === 'POISONED_FACT' ||
    code === 'EVENT_STORE_DAMAGED' ||
    code === 'VALIDATION_FAILED'
  );
}

const TIMEOUT: unique symbol = Symbol('timeout');

/**
 * The one way the log is consumed (projections, pipelines, the alert manager, complex events):
 * subscribe after the handler's checkpoint, batch, handle in order (preparing the next batch while the
 * previous is handled), and supervise: on failure, load again from the checkpoint and resubscribe,
 * with backoff; on an error no retry can cure, halt. Its status says how it stands, so that readiness
 * can fail loudly when it makes no progress.
 */
export function createLogConsumer(options: LogConsumerOptions) {
  const { events, handler, filter } = options;
  const log = options.logger.child({ consumer: options.name });
  const now = options.now ?? Date.now;
  const size = options.batch?.size ?? 1;
  const maxDelay = options.batch?.maxDelayMs ?? 0;
  const { sleep, wakeAll } = wakeableSleep();
  let position: Position | null = null;
  let state: ConsumerState = 'stopped';
  /** Waiting for the consumer to begin reading (or to halt, fail trying, or end): `reading()`. */
  let readingWaiters: (() => void)[] = [];
  function enter(next: ConsumerState): void {
    state = next;
    if (!readingWaiters.length) return;
    const waiters = readingWaiters;
    readingWaiters = [];
    for (const wake of waiters) wake();
  }
  let lastError: string | null = null;
  let failingSince: number | null = null;
  let busySince: number | null = null;
  let lastProgressAt: number | null = null;
  let handled = 0;
  let stopRequested = false;
  let running: Promise<void> | null = null;
  let closeSubscription: (() => Promise<void>) | null = null;
  const progress = createProgress({
    events,
    filter,
    ...(options.accept ? { accept: options.accept as (e: { streamId: string }) => boolean } : {}),
    position: () => position,
  });

  function advanced(last: RecordedEvent, count: number): void {
    position = last.position;
    handled += count;
    lastProgressAt = now();
    failingSince = null;
    lastError = null;
    if (state === 'retrying') enter('live');
    progress.advanced();
  }

  async function follow(): Promise<void> {
    position = await handler.load();
    progress.advanced();
    const subscription = events.subscribeToAll({ ...(position === null ? {} : { after: position }), filter });
    closeSubscription = () => subscription.close();
    const iterator = subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let deadline = 0;
    let pending: Promise<IteratorResult<SubscriptionMessage>> | null = null;
    let handling: Promise<void> = Promise.resolve();
    // A batch failing while the loop waits for the next event must not go unnoticed until one comes.
    let abort!: (error: unknown) => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    aborted.catch(() => undefined);
    enter(state === 'retrying' ? 'retrying' : 'catchingUp');
    const dispatch = async () => {
      if (!batch.length) return;
      const full = batch;
      batch = [];
      const prepared = handler.prepare?.(full);
      await handling;
      const last = full[full.length - 1]!;
      busySince = now();
      handling = handler.handle(full, prepared).then(() => {
        busySince = null;
        advanced(last, full.length);
      });
      handling.catch(abort);
    };
    try {
      while (!stopRequested) {
        pending ??= iterator.next();
        const wait = deadline - now();
        const next =
          batch.length === 0
            ? await Promise.race([pending, aborted])
            : wait <= 0
              ? TIMEOUT
              : await Promise.race([pending, aborted, sleep(wait).then((): typeof TIMEOUT => TIMEOUT)]);
        if (next === TIMEOUT) {
          await dispatch();
          continue;
        }
        pending = null;
        if (next.done) {
          if (!stopRequested) throw new Error('the event store ended the subscription');
          break;
        }
        const message = next.value;
        if (message.kind === 'caughtUp') {
          await dispatch();
          // Caught up after a failure: recovered, even if no new event has come to prove it.
          await handling;
          enter('live');
          failingSince = null;
          lastError = null;
          continue;
        }
        if (options.accept && !options.accept(message.event)) continue;
        if (batch.length === 0) deadline = now() + maxDelay;
        batch.push(message.event);
        if (batch.length >= size) await dispatch();
      }
      if (!stopRequested) await dispatch();
      await handling;
    } finally {
      await handling.catch(() => undefined);
      busySince = null;
      await subscription.close();
      closeSubscription = null;
    }
  }

  async function supervised(): Promise<void> {
    for (let attempt = 0; !stopRequested; attempt++) {
      try {
        await follow();
        return;
      } catch (error) {
        if (stopRequested) return;
        lastError = error instanceof Error ? error.message : String(error);
        failingSince ??= now();
        if (isHalting(error)) {
          enter('halted');
          log.error({ err: error }, `${options.name} halted: ${lastError}`);
          return;
        }
        enter('retrying');
        log.error({ err: error, attempt }, `${options.name} failed; resuming from its checkpoint`);
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(attempt, 7)));
      }
    }
  }

  return {
    name: options.name,

    start(): void {
      if (running) return;
      stopRequested = false;
      // Unknown until the handler has loaded its checkpoint: waits from now on wait for that.
      position = null;
      running = supervised().finally(() => {
        if (state !== 'halted') enter('stopped');
        running = null;
      });
    },

    /** Stops reading; a consumer that was running normally gets its `close` (a final checkpoint). */
    async stop(): Promise<void> {
      const wasHealthy = running !== null && state !== 'halted' && state !== 'retrying';
      stopRequested = true;
      wakeAll();
      await closeSubscription?.();
      await running;
      if (wasHealthy && handler.close)
        await handler.close().catch((error: unknown) => log.warn({ err: error }, 'final checkpoint failed'));
    },

    /**
     * Resolves once a started consumer has begun reading the log (its checkpoint loaded and the log
     * subscribed), or has halted or is retrying: a service answers requests only after that.
     */
    reading(): Promise<void> {
      if (state !== 'stopped' || !running) return Promise.resolve();
      return new Promise((resolve) => readingWaiters.push(resolve));
    },

    /** Resolves once every event up to `position` (default: the head now) that it takes is handled. */
    waitFor: (target?: Position | null) => progress.waitFor(target),

    position: (): Position | null => position,

    status(): ConsumerStatus {
      return {
        name: options.name,
        state,
        position: position?.toString() ?? null,
        eventsHandled: handled,
        lastError,
        failingSince,
        busySince,
        lastProgressAt,
      };
    },

    /** The oldest event it takes that is not handled yet, if any: how far behind it is, by its filter. */
    async behind(): Promise<{ readonly lagMs: number; readonly next: string | null }> {
      let scanned = 0;
      for await (const event of events.readAll({
        ...(position === null ? {} : { after: position }),
        filter,
      })) {
        if (!options.accept || options.accept(event)) {
          return { lagMs: Math.max(0, now() - event.createdAt.getTime()), next: event.position.toString() };
        }
        if (++scanned >= 1000) break;
      }
      return { lagMs: 0, next: null };
    },
  };
}

export type LogConsumer = ReturnType<typeof createLogConsumer>;

/**
 * Is this consumer making progress? Not before it reads the log, nor when it halted, or has been
 * failing or holding one batch for longer than `stallMs`. The reason says which, for readiness and
 * `/metrics`.
 */
export function consumerProblem(status: ConsumerStatus, at: number, stallMs: number): string | null {
  if (status.state === 'halted') return `halted: ${status.lastError ?? 'unknown error'}`;
  // Started but not yet reading (its checkpoint still loading), or stopped: not ready either way.
  if (status.state === 'stopped') return 'not reading the log yet';
  if (status.failingSince !== null && at - status.failingSince > stallMs)
    return `failing for ${Math.round((at - status.failingSince) / 1000)} s: ${status.lastError ?? 'unknown error'}`;
  if (status.busySince !== null && at - status.busySince > stallMs)
    return `stuck on one batch for ${Math.round((at - status.busySince) / 1000)} s`;
  return null;
}
