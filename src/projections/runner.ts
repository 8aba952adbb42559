import type { Logger } from 'pino';
import { type ConsumerStatus, createLogConsumer } from '../runtime/log-consumer.js';
import { type AnalyticsStore, queryRows } from '../stores/clickhouse/client.js';
import type { EventStore, Position, RecordedEvent } from '../stores/event-store/port.js';
import { type ExternalCheckpoint, verifyCheckpoint } from './checkpoint.js';
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
  readonly state: ConsumerStatus['state'];
  /** Position of the last event whose rows are written, or null before the first batch. */
  readonly checkpoint: string | null;
  readonly headPosition: string | null;
  /** How long ago the oldest event it has still to write was appended; 0 when it has written all it takes. */
  readonly lagMs: number;
  readonly eventsProjected: number;
  readonly lastError: string | null;
  readonly consumer: ConsumerStatus;
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
  /** The consumer's own status, without a store round trip (readiness, metrics). */
  consumerStatus(): ConsumerStatus;
}

/**
 * Runs one projection as a consumer of the log that writes to ClickHouse, exactly once in effect:
 * rows are written before the checkpoint, which names the event and the store it was taken against.
 * At every (re)start — after any failure too — it re-reads the checkpoint, checks it belongs to this
 * log (else it halts, naming the rebuild command), has the projection remove what was written past
 * it, and reads the log after it: a crash or failure at any point converges to the same rows.
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { projection, events, analytics, logger } = options;
  const checkpoints = analytics.table('projection_checkpoints');
  const log = logger.child({ projection: projection.name });
  const name = `projection:${projection.name}`;
  let batches = 0;
  /** The store's epoch, read once a (re)start: every checkpoint this run writes names it. */
  let epoch = '';

  async function readCheckpoint(): Promise<ExternalCheckpoint | null> {
    const [row] = await queryRows<{ position: string; epoch: string; event_id: string }>(
      analytics,
      `SELECT toString(position) AS position, epoch, event_id FROM ${checkpoints}
        WHERE projection_name = {name:String} ORDER BY position DESC LIMIT 1`,
      { name: projection.name },
    );
    return row ? { position: BigInt(row.position), epoch: row.epoch, eventId: row.event_id } : null;
  }

  const consumer = createLogConsumer({
    name,
    events,
    logger,
    filter: projection.filter ?? {},
    batch: {
      size: Math.min(options.batchSize ?? 5000, projection.maxBatch ?? Number.POSITIVE_INFINITY),
      maxDelayMs: options.maxBatchDelayMs ?? 50,
    },
    handler: {
      /** Makes ClickHouse hold exactly the rows of the events up to the stored checkpoint. */
      async load() {
        const stored = await readCheckpoint();
        epoch = (await events.identity()).epoch;
        await verifyCheckpoint(events, projection.name, stored);
        const checkpoint = stored?.position ?? null;
        if (projection.recover) await projection.recover(analytics, checkpoint);
        else {
          const removed = await deleteRowsAfter(analytics, projection.tables, checkpoint);
          if (removed)
            log.warn(
              { removed, checkpoint: checkpoint?.toString() ?? null },
              'removed rows written past the checkpoint',
            );
        }
        return checkpoint;
      },
      prepare: projection.prepare ? (batch) => projection.prepare!(batch) : undefined,
      async handle(batch: readonly RecordedEvent[], prepared: unknown) {
        const last = batch[batch.length - 1]!;
        const number = ++batches;
        await options.onStage?.('beforeInsert', number);
        await projection.write(batch, analytics, prepared);
        await options.onStage?.('afterInsert', number);
        await analytics.client.insert({
          table: checkpoints,
          values: [
            {
              projection_name: projection.name,
              position: last.position.toString(),
              epoch,
              event_id: last.id,
            },
          ],
          format: 'JSONEachRow',
        });
        await options.onStage?.('afterCheckpoint', number);
      },
    },
  });

  const runner: ProjectionRunner = {
    name: projection.name,

    /** Starts reading; resolves once the projection reads the log (or has halted or is retrying). */
    async start() {
      consumer.start();
      await consumer.reading();
    },

    stop: () => consumer.stop(),

    async rebuild() {
      await consumer.stop();
      await resetProjection(analytics, projection);
      log.info('rebuilding from position 0');
      consumer.start();
    },

    async status() {
      const own = consumer.status();
      const [head, behind] = await Promise.all([events.headPosition(), consumer.behind()]);
      return {
        name: projection.name,
        state: own.state,
        checkpoint: own.position,
        headPosition: head?.toString() ?? null,
        lagMs: behind.lagMs,
        eventsProjected: own.eventsHandled,
        lastError: own.lastError,
        consumer: own,
      };
    },

    waitFor: (position) => consumer.waitFor(position),
    consumerStatus: () => consumer.status(),
  };
  return runner;
}

/**
 * Forgets everything a projection wrote: its checkpoint first (a crash after it leaves a projection
 * that rebuilds from 0, never one that believes it holds rows it does not), then its tables. The next
 * start projects the whole log again.
 */
export async function resetProjection(analytics: AnalyticsStore, projection: Projection): Promise<void> {
  await analytics.client.command({
    query: `DELETE FROM ${analytics.table('projection_checkpoints')} WHERE projection_name = {name:String}`,
    query_params: { name: projection.name },
  });
  for (const table of projection.tables) {
    await analytics.client.command({ query: `TRUNCATE TABLE IF EXISTS ${analytics.table(table)}` });
  }
}
