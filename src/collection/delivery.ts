import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { NotDurableError } from '../domain/errors.js';
import {
  type EventStore,
  type JsonValue,
  type Metadata,
  WrongExpectedVersionError,
} from '../stores/event-store/port.js';
import type { Spool, SpooledBatch } from './spool.js';

/** One event of a samples stream waiting to be made durable: a push request, or a cut of the agent's buffer. */
export interface Unit {
  readonly eventId: string;
  /** The seq in its payload (its intended revision); where it lands is decided at append. */
  readonly seq: number;
  readonly data: JsonValue;
  readonly metadata: Metadata;
  readonly samples: number;
}

export interface DeliveryOptions {
  readonly streamId: string;
  readonly events: EventStore;
  readonly spool: Spool;
  readonly logger: Logger;
  /** Attempts of one append before the group goes to the spool, and the backoff between them. */
  readonly retry: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly spoolMaxBytes: number;
  readonly now: () => number;
  /** Events one append carries at most (group commit). */
  readonly maxGroupEvents?: number;
  /** How long a unit waits at most for requests being taken to share its append (default 100 ms). */
  readonly maxGroupWaitMs?: number;
  /** Samples one append carries at most. */
  readonly maxGroupSamples?: number;
  /** The event store could not be reached: batches go to the spool from now on. */
  readonly onDegraded?: (reason: string, since: number) => void;
  /** The spool was replayed and the store takes appends again. */
  readonly onRestored?: (replayed: number, since: number, at: number) => void;
}

export interface DeliveryHealth {
  readonly delivery: 'healthy' | 'degraded';
  /** Samples submitted and not yet durable. */
  readonly pendingSamples: number;
  /** Since when the oldest unit not yet durable has waited, or null. */
  readonly waitingSince: number | null;
  readonly batchesFlushed: number;
  /** Appends made to the log: a group commit carries the events of several requests in one. */
  readonly appends: number;
  readonly samplesFlushed: number;
  readonly spooledBatches: number;
  readonly spooledBytes: number;
  readonly spooledTotal: number;
  /** When the oldest batch waiting in the spool was spooled, or null. */
  readonly spooledSince: number | null;
  readonly lastFlushLatencyMs: number | null;
  readonly maxFlushLatencyMs: number;
  readonly lastError: string | null;
}

interface Queued {
  readonly unit: Unit;
  readonly submittedAt: number;
  readonly resolve: () => void;
}

/**
 * Makes units durable, in order, on one samples stream: a group commit appends every unit waiting
 * (up to a bound) in one append, so requests that arrive while an append is in flight share the next
 * one. A unit's promise resolves only once it is in the log, or (while the log cannot be reached)
 * fsynced to the spool; a unit is never dropped: while neither takes it, it waits in memory.
 *
 * An append that failed may have landed with its reply lost; a retry carries the same event ids and
 * the store answers it as a retry. When the stream is elsewhere than expected, the units already in
 * it (by id) are settled as landed and the rest take the next free revisions.
 */
export function createDelivery(options: DeliveryOptions) {
  const { streamId, events, spool, logger } = options;
  // An append runs synchronously on the embedded store: groups stay small enough to take a few ms.
  const maxGroupEvents = options.maxGroupEvents ?? 64;
  const maxGroupSamples = options.maxGroupSamples ?? 50_000;
  const queue: Queued[] = [];
  let cursor = 0;
  /** The seq given to the newest unit: units are numbered in the order they are submitted. */
  let allocated = -1;
  let degraded = false;
  let degradedSince = 0;
  let degradedReason = '';
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  let drainQueued = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let retryAttempt = 0;
  let pendingSamples = 0;
  let tail: Promise<void> = Promise.resolve();
  /** Waits that end early when a drain can make nothing durable. */
  const stallWaiters = new Set<(error: NotDurableError) => void>();
  function stall(reason: string): void {
    stats.lastError = reason;
    for (const fail of [...stallWaiters]) fail(new NotDurableError(reason));
    stallWaiters.clear();
  }
  const stats = {
    batches: 0,
    appends: 0,
    flushed: 0,
    spooledTotal: 0,
    lastLatency: null as number | null,
    maxLatency: 0,
    lastError: null as string | null,
  };
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

  /** Work on the stream runs one piece at a time, in order; the chain never rejects. */
  function serial(work: () => Promise<void>): Promise<void> {
    chain = chain.then(work).catch((error: unknown) => {
      stats.lastError = message(error);
      logger.error({ err: error }, 'delivery failed; the batches wait in memory and are retried');
      scheduleRetry();
    });
    return chain;
  }

  function scheduleRetry(): void {
    if (retryTimer || stopped) return;
    const delay = Math.min(options.retry.maxDelayMs * 4, options.retry.baseDelayMs * 2 ** retryAttempt++);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void serial(degraded || spool.size > 0 ? replay : drain);
    }, delay);
    retryTimer.unref();
  }

  function kick(): void {
    if (drainQueued) return;
    drainQueued = true;
    void serial(drain);
  }

  /** Requests being taken that will submit a unit soon: appends wait for them (group commit). */
  let holds = 0;
  let groupTimer: NodeJS.Timeout | null = null;
  /** How long the oldest unit may wait for the requests being taken before it is appended anyway. */
  const maxGroupWaitMs = options.maxGroupWaitMs ?? 100;

  /** Whether to wait for the requests being taken, so that they share this append. */
  function waitForMore(): boolean {
    if (holds === 0 || degraded || spool.size > 0 || queue.length >= maxGroupEvents) return false;
    let samples = 0;
    for (const queued of queue) samples += queued.unit.samples;
    return samples < maxGroupSamples && options.now() - queue[0]!.submittedAt < maxGroupWaitMs;
  }

  function takeGroup(): Queued[] {
    const group: Queued[] = [];
    let samples = 0;
    while (queue.length && group.length < maxGroupEvents) {
      const next = queue[0]!;
      if (group.length && samples + next.unit.samples > maxGroupSamples) break;
      group.push(queue.shift()!);
      samples += next.unit.samples;
    }
    return group;
  }

  function settle(group: readonly Queued[], started: number, landedInLog: boolean): void {
    for (const queued of group) {
      pendingSamples -= queued.unit.samples;
      if (landedInLog) {
        stats.batches++;
        stats.flushed += queued.unit.samples;
      }
      queued.resolve();
    }
    if (landedInLog) {
      const latency = options.now() - started;
      stats.lastLatency = latency;
      stats.maxLatency = Math.max(stats.maxLatency, latency);
    }
  }

  /**
   * Appends units at the cursor, retrying with backoff. Units found in the stream already (a retry
   * whose first reply was lost, a batch replayed twice, a retried request) count as landed.
   */
  async function append(units: readonly Unit[]): Promise<void> {
    let pending = [...units];
    await pRetry(
      async () => {
        while (pending.length) {
          try {
            const result = await events.append(
              streamId,
              pending.map((u) => ({
                id: u.eventId,
                type: 'batchFlushed',
                data: u.data,
                metadata: u.metadata,
              })),
              { expectedRevision: cursor === 0 ? 'noStream' : BigInt(cursor - 1) },
            );
            cursor = Math.max(cursor, Number(result.nextExpectedRevision) + 1);
            return;
          } catch (error) {
            if (!(error instanceof WrongExpectedVersionError)) throw error;
            const present = await Promise.all(pending.map((u) => events.findEvent(streamId, u.eventId)));
            pending = pending.filter((_, i) => present[i] === null);
            const next = error.actual === null ? 0 : Number(error.actual) + 1;
            if (pending.length && next !== cursor)
              logger.warn(
                { from: cursor, to: next },
                'samples stream was not at the expected revision; renumbered',
              );
            cursor = next;
          }
        }
      },
      {
        retries: Math.max(0, options.retry.attempts - 1),
        minTimeout: options.retry.baseDelayMs,
        maxTimeout: options.retry.maxDelayMs,
        randomize: true,
        shouldRetry: () => !stopped,
      },
    );
  }

  function enterDegraded(error: unknown): void {
    stats.lastError = message(error);
    if (degraded) return;
    degraded = true;
    degradedSince = options.now();
    degradedReason = message(error);
    logger.warn({ err: error }, 'event store unreachable: spooling batches to disk');
    options.onDegraded?.(degradedReason.slice(0, 2000), degradedSince);
  }

  async function drain(): Promise<void> {
    drainQueued = false;
    while (queue.length && !stopped) {
      // The last request being taken kicks the drain again when it has submitted (see `hold`), or
      // the oldest unit's wait runs out.
      if (waitForMore()) {
        groupTimer ??= setTimeout(
          () => {
            groupTimer = null;
            kick();
          },
          Math.max(1, maxGroupWaitMs - (options.now() - queue[0]!.submittedAt)),
        );
        groupTimer.unref();
        return;
      }
      const group = takeGroup();
      const started = options.now();
      // Spooled batches (of this process or an earlier one) go first: a new one never overtakes them.
      if (!degraded && spool.size === 0) {
        try {
          await append(group.map((q) => q.unit));
          stats.appends++;
          settle(group, started, true);
          // The next append after a turn of the event loop: requests and probes are served between.
          if (queue.length) await new Promise<void>((r) => setImmediate(r));
          continue;
        } catch (error) {
          queue.unshift(...group);
          enterDegraded(error);
          scheduleRetry();
          continue;
        }
      }
      if (spool.byteSize >= options.spoolMaxBytes) {
        queue.unshift(...group);
        stall(
          `the event store is unreachable (${degradedReason}) and the spool is full (${spool.byteSize} bytes): holding ${pendingSamples} samples in memory`,
        );
        return;
      }
      try {
        await spool.appendAll(group.map((q): SpooledBatch => ({ ...q.unit, spooledAt: options.now() })));
      } catch (error) {
        queue.unshift(...group);
        stall(`the event store is unreachable (${degradedReason}) and the spool failed: ${message(error)}`);
        throw error;
      }
      stats.spooledTotal += group.length;
      settle(group, started, false);
    }
  }

  /** Replays the spool in order, one record at a time, then takes appends again. */
  async function replay(): Promise<void> {
    let replayed = 0;
    let first: number | null = null;
    try {
      for await (const batch of spool.records()) {
        first ??= batch.spooledAt;
        await append([
          {
            eventId: batch.eventId,
            seq: batch.seq,
            data: batch.data,
            metadata: batch.metadata ?? { schemaVersion: 1, correlationId: batch.eventId },
            samples: 0,
          },
        ]);
        replayed++;
      }
      // Only what was read is cleared: a spool that changed under the replay is read again later.
      if (replayed !== spool.size)
        throw new Error(
          `the spool holds ${spool.size} batches but ${replayed} were read: it changed on disk`,
        );
      await spool.clear();
    } catch (error) {
      stats.lastError = message(error);
      scheduleRetry();
      return;
    }
    retryAttempt = 0;
    const wasDegraded = degraded;
    degraded = false;
    logger.info({ replayed }, 'event store reachable again: spool replayed');
    if (wasDegraded || replayed) {
      const since = wasDegraded ? degradedSince : (first ?? options.now());
      if (!wasDegraded) options.onDegraded?.('found a spool at start', since);
      options.onRestored?.(replayed, since, options.now());
    }
    if (queue.length) kick();
  }

  return {
    /** Where the stream stands (and what a spool from an earlier process holds); replays that spool. */
    async start(): Promise<void> {
      try {
        for await (const last of events.readStream(streamId, { direction: 'backwards', maxCount: 1 }))
          cursor = Number(last.revision) + 1;
      } catch (error) {
        if (spool.newestSeq === null) throw error;
        enterDegraded(error);
      }
      if (spool.newestSeq !== null) {
        cursor = Math.max(cursor, spool.newestSeq + 1);
        void serial(replay);
      }
    },

    /** The seq a new unit gets: after everything in the stream and the spool. */
    nextSeq(): number {
      allocated = Math.max(allocated + 1, cursor);
      return allocated;
    },

    /** Resolves when the unit is durable (in the log, or fsynced to the spool). */
    submit(unit: Unit): Promise<void> {
      let resolve!: () => void;
      const durable = new Promise<void>((r) => {
        resolve = r;
      });
      queue.push({ unit, submittedAt: options.now(), resolve });
      pendingSamples += unit.samples;
      tail = durable;
      kick();
      return durable;
    },

    /**
     * Says a request is being taken and will submit a unit soon: until the returned release is called
     * (once it has submitted, or given up), appends wait for it, so that requests taken one after
     * another while an append is due share one append (bounded by the group's size and
     * `maxGroupWaitMs`).
     */
    hold(): () => void {
      holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        if (holds === 0 && queue.length) kick();
      };
    },

    /** Resolves when every unit submitted so far is durable. */
    idle(): Promise<void> {
      return tail;
    },

    /**
     * Waits for `durable`, but fails with NotDurableError as soon as a drain can make nothing durable,
     * or after `timeoutMs`. The units stay queued either way.
     */
    wait(durable: Promise<void>, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const timer = Number.isFinite(timeoutMs)
          ? setTimeout(
              () =>
                fail(
                  new NotDurableError(
                    `not durable within ${timeoutMs} ms: ${stats.lastError ?? 'the log is slow'}`,
                  ),
                ),
              timeoutMs,
            )
          : null;
        function fail(error: NotDurableError): void {
          if (timer) clearTimeout(timer);
          stallWaiters.delete(fail);
          reject(error);
        }
        stallWaiters.add(fail);
        durable.then(() => {
          if (timer) clearTimeout(timer);
          stallWaiters.delete(fail);
          resolve();
        });
      });
    },

    health(): DeliveryHealth {
      return {
        delivery: degraded || spool.size > 0 ? 'degraded' : 'healthy',
        spooledSince: spool.oldestAt,
        pendingSamples,
        waitingSince: queue[0]?.submittedAt ?? null,
        batchesFlushed: stats.batches,
        appends: stats.appends,
        samplesFlushed: stats.flushed,
        spooledBatches: spool.size,
        spooledBytes: spool.byteSize,
        spooledTotal: stats.spooledTotal,
        lastFlushLatencyMs: stats.lastLatency,
        maxFlushLatencyMs: stats.maxLatency,
        lastError: stats.lastError,
      };
    },

    get degraded(): boolean {
      return degraded;
    },

    /** Samples submitted and not yet durable. */
    get pendingSamples(): number {
      return pendingSamples;
    },

    /** Stops retrying; units not yet durable are reported (the caller logs them). */
    async stop(): Promise<number> {
      stopped = true;
      if (groupTimer) clearTimeout(groupTimer);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      await chain;
      return pendingSamples;
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
