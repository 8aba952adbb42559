import type { Logger } from 'pino';
import { createProgress } from '../runtime/progress.js';
import { supervise, wakeableSleep } from '../runtime/supervise.js';
import { type AnalyticsStore, queryRows } from '../stores/clickhouse/client.js';
import type { EventStore, Position, RecordedEvent, SubscriptionMessage } from '../stores/event-store/port.js';
import { deleteRowsAfter, type Projection } from './projection.js';

export type ProjectionStage = 'beforeInsert' | 'afterInsert' | 'afterCheckpoint';

export interface ProjectionRunnerOptions {
  readonly projection: Projection;
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly logger: Logger;
  /** Events per write at most (default 5,000). */
  readonly batchSize?: number;
  /** How long the first event of a partial batch may wait for more before the batch is written (default 50 ms). */
  readonly maxBatchDelayMs?: number;
  /** Called at each stage of every batch; lets tests stop the process at an exact point. */
  readonly onStage?: (stage: ProjectionStage, batch: number) => void | Promise<void>;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly state: 'stopped' | 'catchingUp' | 'live' | 'retrying';
  /** Position of the last event whose rows are written, or null before the first batch. */
  readonly checkpoint: string | null;
  readonly headPosition: string | null;
  /** How long ago the last written event was appended, while the projection is behind; 0 when live. */
  readonly lagMs: number;
  readonly eventsProjected: number;
  readonly lastError: string | null;
}

export interface ProjectionRunner {
  readonly name: string;
  /** Recovers (removes rows past the checkpoint) and starts following the log. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Drops the projection's checkpoint and rows and projects the whole log again from position 0. */
  rebuild(): Promise<void>;
  status(): Promise<ProjectionStatus>;
  /** Resolves once every event up to `position` (default: the head now) that the filter passes is written. */
  waitFor(position?: Position | null): Promise<void>;
}

const TIMEOUT: unique symbol = Symbol('timeout');

/**
 * Runs one projection: a checkpointed subscription to the log that writes to ClickHouse, exactly
 * once in effect. Rows are written before the checkpoint. Before writing after any failure, and on
 * start, the runner re-reads the stored checkpoint, has the projection remove what was written past
 * it, and skips events the checkpoint already covers. So a crash or failure at any point converges to
 * the same rows.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { projection, events, analytics, logger } = options;
  const batchSize = options.batchSize ?? 5000;
  const maxDelay = options.maxBatchDelayMs ?? 50;
  const checkpoints = analytics.table('projection_checkpoints');
  const log = logger.child({ projection: projection.name });

  let checkpoint: Position | null = null;
  let lastEventTime: Date | null = null;
  let state: ProjectionStatus['state'] = 'stopped';
  let lastError: string | null = null;
  let projected = 0;
  let batches = 0;
  let running: Promise<void> | null = null;
  let stopRequested = false;
  let closeSubscription: (() => Promise<void>) | null = null;
  const progress = createProgress({ events, filter: projection.filter, position: () => checkpoint });

  /** Sleeps that `stop()` cuts short. */
  const { sleep, wakeAll } = wakeableSleep();

  async function readCheckpoint(): Promise<Position | null> {
    const [row] = await queryRows<{ n: string; position: string }>(
      analytics,
      `SELECT count() AS n, max(position) AS position FROM ${checkpoints} WHERE projection_name = {name:String}`,
      { name: projection.name },
    );
    return row && row.n !== '0' ? BigInt(row.position) : null;
  }

  /** Makes ClickHouse hold exactly the rows of the events up to the stored checkpoint. */
  async function recover(): Promise<void> {
    checkpoint = await readCheckpoint();
    if (projection.recover) await projection.recover(analytics, checkpoint);
    else {
      const removed = await deleteRowsAfter(analytics, projection.tables, checkpoint);
      if (removed)
        log.warn(
          { removed, checkpoint: checkpoint?.toString() ?? null },
          'removed rows written past the checkpoint',
        );
    }
    progress.advanced();
  }

  async function writeBatch(batch: readonly RecordedEvent[], prepared: unknown): Promise<void> {
    const last = batch[batch.length - 1]!;
    const number = ++batches;
    await options.onStage?.('beforeInsert', number);
    await projection.write(batch, analytics, prepared);
    await options.onStage?.('afterInsert', number);
    await analytics.client.insert({
      table: checkpoints,
      values: [{ projection_name: projection.name, position: last.position.toString() }],
      format: 'JSONEachRow',
    });
    await options.onStage?.('afterCheckpoint', number);
    checkpoint = last.position;
    lastEventTime = last.createdAt;
    projected += batch.length;
    progress.advanced();
  }

  /**
   * Writes a batch, retrying with backoff while ClickHouse fails; never drops it. After a failure
   * nothing is known about what reached ClickHouse (an insert or the checkpoint may have landed with
   * its reply lost), so each retry first recovers from the stored checkpoint.
   */
  async function writeWithRetry(batch: readonly RecordedEvent[], prepared: unknown): Promise<void> {
    let dirty = false;
    for (let attempt = 0; !stopRequested; attempt++) {
      try {
        let pending = batch;
        let ready = prepared;
        if (dirty) {
          await recover();
          const done = checkpoint;
          pending = done === null ? batch : batch.filter((e) => e.position > done);
          if (pending.length !== batch.length) ready = projection.prepare?.(pending);
        }
        if (pending.length) await writeBatch(pending, ready);
        if (state === 'retrying') state = 'live';
        lastError = null;
        return;
      } catch (error) {
        dirty = true;
        lastError = error instanceof Error ? error.message : String(error);
        state = 'retrying';
        log.error({ err: error, attempt }, 'projection batch failed; retrying');
        await sleep(Math.min(30_000, 100 * 2 ** attempt));
      }
    }
  }

  async function follow(): Promise<void> {
    await recover();
    const subscription = events.subscribeToAll({
      ...(checkpoint === null ? {} : { after: checkpoint }),
      ...(projection.filter ? { filter: projection.filter } : {}),
    });
    closeSubscription = () => subscription.close();
    const iterator = subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let deadline = 0;
    let pending: Promise<IteratorResult<SubscriptionMessage>> | null = null;
    let writing: Promise<void> = Promise.resolve();
    state = 'catchingUp';
    // Writes stay strictly in order (one at a time, each checkpointed), but the next batch is prepared
    // while the previous one is being written.
    const flush = async () => {
      if (!batch.length) return;
      const full = batch;
      batch = [];
      const prepared = projection.prepare?.(full);
      await writing;
      writing = writeWithRetry(full, prepared);
    };
    try {
      while (!stopRequested) {
        pending ??= iterator.next();
        const wait = deadline - Date.now();
        const next =
          batch.length === 0
            ? await pending
            : wait <= 0
              ? TIMEOUT
              : await Promise.race([pending, sleep(wait).then((): typeof TIMEOUT => TIMEOUT)]);
        if (next === TIMEOUT) {
          await flush();
          continue;
        }
        pending = null;
        if (next.done) {
          if (!stopRequested) throw new Error('the event store ended the subscription');
          break;
        }
        const message = next.value;
        if (message.kind === 'caughtUp') {
          await flush();
          state = 'live';
          continue;
        }
        // One deadline per batch, from its first event: a steady trickle is still written promptly.
        if (batch.length === 0) deadline = Date.now() + maxDelay;
        batch.push(message.event);
        if (batch.length >= batchSize) await flush();
      }
      if (!stopRequested) await flush();
      await writing;
    } finally {
      await writing.catch(() => undefined);
      await subscription.close();
      closeSubscription = null;
    }
  }

  const runner: ProjectionRunner = {
    name: projection.name,

    async start() {
      if (running) return;
      stopRequested = false;
      running = supervise({
        work: follow,
        stopped: () => stopRequested,
        sleep,
        onFailure: (error, attempt) => {
          lastError = error instanceof Error ? error.message : String(error);
          state = 'retrying';
          log.error({ err: error, attempt }, 'projection failed; resuming from its checkpoint');
        },
      }).finally(() => {
        state = 'stopped';
        running = null;
      });
    },

    async stop() {
      stopRequested = true;
      wakeAll();
      await closeSubscription?.();
      await running;
    },

    async rebuild() {
      await runner.stop();
      // Checkpoint first: a crash after it leaves a projection that rebuilds from 0, never one that
      // believes it holds rows it does not.
      await analytics.client.command({
        query: `DELETE FROM ${checkpoints} WHERE projection_name = {name:String}`,
        query_params: { name: projection.name },
      });
      checkpoint = null;
      for (const table of projection.tables) {
        await analytics.client.command({ query: `TRUNCATE TABLE IF EXISTS ${analytics.table(table)}` });
      }
      projected = 0;
      log.info('rebuilding from position 0');
      await runner.start();
    },

    async status() {
      const head = await events.headPosition();
      const behind = head !== null && (checkpoint === null || checkpoint < head);
      return {
        name: projection.name,
        state,
        checkpoint: checkpoint?.toString() ?? null,
        headPosition: head?.toString() ?? null,
        lagMs: behind && lastEventTime ? Math.max(0, Date.now() - lastEventTime.getTime()) : 0,
        eventsProjected: projected,
        lastError,
      };
    },

    waitFor: (position) => progress.waitFor(position),
  };
  return runner;
}
