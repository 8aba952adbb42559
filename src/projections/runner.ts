import type { Logger } from 'pino';
import { type AnalyticsStore, queryRows } from '../stores/clickhouse/client.js';
import type { EventStore, Position, RecordedEvent, SubscriptionMessage } from '../stores/event-store/port.js';
import type { Projection } from './projection.js';

export type ProjectionStage = 'beforeInsert' | 'afterInsert' | 'afterCheckpoint';

export interface ProjectionRunnerOptions {
  readonly projection: Projection;
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly logger: Logger;
  /** Events per ClickHouse insert at most (default 5,000). */
  readonly batchSize?: number;
  /** How long a partial batch may wait for more events before it is written (default 50 ms). */
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
  /** Drops the projection's rows and checkpoint and projects the whole log again from position 0. */
  rebuild(): Promise<void>;
  status(): Promise<ProjectionStatus>;
  /** Resolves once every event up to `position` (default: the head now) is written. */
  waitFor(position?: Position | null): Promise<void>;
}

const TIMEOUT: unique symbol = Symbol('timeout');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one projection: a checkpointed subscription to the log that writes rows to ClickHouse,
 * exactly once in effect. Rows are written before the checkpoint; on start, rows past the
 * checkpoint (written by a run that died before checkpointing) are deleted, and the log is read
 * again from the checkpoint. So a crash at any point converges to the same rows.
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
  const waiters = new Set<{ position: Position; resolve: () => void }>();

  async function readCheckpoint(): Promise<Position | null> {
    const [row] = await queryRows<{ n: string; position: string }>(
      analytics,
      `SELECT count() AS n, max(position) AS position FROM ${checkpoints} WHERE projection_name = {name:String}`,
      { name: projection.name },
    );
    return row && row.n !== '0' ? BigInt(row.position) : null;
  }

  /** Deletes rows written past the checkpoint by a run that died before it could checkpoint them. */
  async function removeUncheckpointedRows(): Promise<void> {
    for (const table of projection.tables) {
      const name = analytics.table(table);
      const after = (checkpoint ?? 0n).toString();
      const [row] = await queryRows<{ n: string }>(
        analytics,
        `SELECT count() AS n FROM ${name} WHERE position > {after:UInt64}`,
        { after },
      );
      if (row && row.n !== '0') {
        log.warn({ table, rows: row.n, after }, 'removing rows written past the checkpoint');
        await analytics.client.command({
          query: `DELETE FROM ${name} WHERE position > {after:UInt64}`,
          query_params: { after },
        });
      }
    }
  }

  async function writeBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!;
    const number = ++batches;
    const rowsByTable = projection.map(batch);
    await options.onStage?.('beforeInsert', number);
    for (const table of projection.tables) {
      const rows = rowsByTable[table];
      if (rows?.length) {
        await analytics.client.insert({
          table: analytics.table(table),
          values: [...rows],
          format: 'JSONEachRow',
        });
      }
    }
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
    for (const waiter of waiters) {
      if (waiter.position <= last.position) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Writes a batch, retrying with backoff while ClickHouse fails; never drops it. */
  async function writeWithRetry(batch: readonly RecordedEvent[]): Promise<void> {
    for (let attempt = 0; !stopRequested; attempt++) {
      try {
        await writeBatch(batch);
        if (state === 'retrying') state = 'live';
        lastError = null;
        return;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        state = 'retrying';
        log.error({ err: error, attempt }, 'projection batch failed; retrying');
        await sleep(Math.min(30_000, 100 * 2 ** attempt));
        // Rows of a failed insert may be partly written: recover as after a crash.
        await removeUncheckpointedRows().catch(() => undefined);
      }
    }
  }

  async function follow(): Promise<void> {
    await removeUncheckpointedRows();
    const subscription = events.subscribeToAll({
      ...(checkpoint === null ? {} : { after: checkpoint }),
      ...(projection.filter ? { filter: projection.filter } : {}),
    });
    closeSubscription = () => subscription.close();
    const iterator = subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let pending: Promise<IteratorResult<SubscriptionMessage>> | null = null;
    state = 'catchingUp';
    try {
      while (!stopRequested) {
        pending ??= iterator.next();
        const next =
          batch.length === 0
            ? await pending
            : await Promise.race([pending, sleep(maxDelay).then((): typeof TIMEOUT => TIMEOUT)]);
        if (next === TIMEOUT) {
          await writeWithRetry(batch);
          batch = [];
          continue;
        }
        pending = null;
        if (next.done) break;
        const message = next.value;
        if (message.kind === 'caughtUp') {
          if (batch.length) await writeWithRetry(batch);
          batch = [];
          state = 'live';
          continue;
        }
        batch.push(message.event);
        if (batch.length >= batchSize) {
          await writeWithRetry(batch);
          batch = [];
        }
      }
      if (batch.length && !stopRequested) await writeWithRetry(batch);
    } finally {
      await subscription.close();
      closeSubscription = null;
    }
  }

  /** Follows the log; when a store fails underneath, waits and resumes from the checkpoint. */
  async function supervise(): Promise<void> {
    for (let attempt = 0; !stopRequested; attempt++) {
      try {
        await follow();
        return;
      } catch (error) {
        if (stopRequested) return;
        lastError = error instanceof Error ? error.message : String(error);
        state = 'retrying';
        log.error({ err: error, attempt }, 'projection failed; resuming from its checkpoint');
        await sleep(Math.min(30_000, 250 * 2 ** attempt));
        checkpoint = (await readCheckpoint().catch(() => checkpoint)) ?? checkpoint;
      }
    }
  }

  const runner: ProjectionRunner = {
    name: projection.name,

    async start() {
      if (running) return;
      stopRequested = false;
      checkpoint = await readCheckpoint();
      running = supervise().finally(() => {
        state = 'stopped';
        running = null;
      });
    },

    async stop() {
      stopRequested = true;
      await closeSubscription?.();
      await running;
    },

    async rebuild() {
      await runner.stop();
      for (const table of projection.tables) {
        await analytics.client.command({ query: `TRUNCATE TABLE IF EXISTS ${analytics.table(table)}` });
      }
      await analytics.client.command({
        query: `DELETE FROM ${checkpoints} WHERE projection_name = {name:String}`,
        query_params: { name: projection.name },
      });
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

    async waitFor(position) {
      const target = position === undefined ? await events.headPosition() : position;
      if (target === null || (checkpoint !== null && checkpoint >= target)) return;
      // Events the filter skips never reach a batch: wait for the head as the filter sees it.
      let filtered: Position | null = target;
      if (projection.filter) {
        filtered = null;
        for await (const event of events.readAll({
          filter: projection.filter,
          ...(checkpoint === null ? {} : { after: checkpoint }),
        })) {
          if (event.position > target) break;
          filtered = event.position;
        }
        if (filtered === null) return;
      }
      const goal = filtered;
      await new Promise<void>((resolve) => {
        if (checkpoint !== null && checkpoint >= goal) resolve();
        else waiters.add({ position: goal, resolve });
      });
    },
  };
  return runner;
}
