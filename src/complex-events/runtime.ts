import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import {
  type AnalyticsEvent,
  COMPLEX_EVENT_INPUTS,
  type ComplexEngineState,
  type ComplexRule,
  createComplexEventEngine,
} from '../domain/analytics/complex-events.js';
import { createProgress } from '../runtime/progress.js';
import { supervise, wakeableSleep } from '../runtime/supervise.js';
import type { EventStore, JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';

export interface ComplexEventRuntimeOptions {
  readonly id?: string;
  readonly rules: readonly ComplexRule[];
  readonly events: EventStore;
  readonly logger: Logger;
  /** A checkpoint of the rules' partial matches is recorded every this many input events (default 200). */
  readonly checkpointEvery?: number;
}

export interface ComplexEventRuntime {
  start(): Promise<void>;
  /** `checkpoint: false` stops as a crash would (for drills and tests). */
  stop(options?: { checkpoint?: boolean }): Promise<void>;
  /** Resolves once every input event up to `position` (default: the head now) has been handled. */
  waitFor(position?: Position | null): Promise<void>;
  status(): { id: string; processedPosition: string | null; detected: number; lastError: string | null };
}

interface Checkpoint {
  readonly position: string;
  readonly rules: string;
  readonly state: ComplexEngineState;
}

const NAMESPACE = 'c3b1d7a4-5e2f-4a8b-9c60-1f2e3d4c5b6a';
const FILTER = { categories: ['findings'], eventTypes: [...COMPLEX_EVENT_INPUTS] };

/**
 * Complex event processing on the log: rules over sequences of analytics facts (A then B within T)
 * and counts (N within a window), across every pipeline's findings, in log order. Each complex event
 * is a fact in `complex-<id>` (`complexEventDetected`, naming the facts that caused it); the rules'
 * partial matches are checkpointed in `complexstate-<id>`.
 *
 * Exactly once in effect: a complex event's id is derived from its rule and causes, so after a crash
 * the runtime resumes from its last checkpoint, re-derives the same events with the same ids and
 * contents, and the store answers them as retries instead of recording them twice.
 */
export function createComplexEventRuntime(options: ComplexEventRuntimeOptions): ComplexEventRuntime {
  const { events, rules } = options;
  const id = options.id ?? 'main';
  const log = options.logger.child({ complexEvents: id });
  const output = `complex-${id}`;
  const checkpoints = `complexstate-${id}`;
  const checkpointEvery = options.checkpointEvery ?? 200;
  const rulesHash = createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 16);
  let engine = createComplexEventEngine(rules);
  let processed: Position | null = null;
  let checkpointed: Position | null = null;
  let sinceCheckpoint = 0;
  let detected = 0;
  let lastError: string | null = null;
  let stopRequested = false;
  let closeSubscription: (() => Promise<void>) | null = null;
  let running: Promise<void> | null = null;
  const { sleep, wakeAll } = wakeableSleep();
  const progress = createProgress({ events, filter: FILTER, position: () => processed });

  async function load(): Promise<void> {
    engine = createComplexEventEngine(rules);
    processed = null;
    let fresh = false;
    for await (const event of events.readStream(checkpoints, { direction: 'backwards', maxCount: 1 })) {
      const saved = event.data as unknown as Checkpoint;
      processed = BigInt(saved.position);
      if (saved.rules === rulesHash) engine.restore(saved.state);
      else fresh = true;
    }
    checkpointed = processed;
    if (fresh) {
      // New rules would raise other events for the findings already judged under the old ones: they
      // start after the last finding that raised something, rather than judge it again.
      for await (const last of events.readStream(output, { direction: 'backwards', maxCount: 1 })) {
        const cause = BigInt(String(last.metadata.causationId ?? '0'));
        if (processed === null || cause > processed) processed = cause;
      }
      log.info({ after: processed?.toString() }, 'complex-event rules changed: starting with fresh state');
    }
  }

  async function checkpoint(): Promise<void> {
    if (processed === null || processed === checkpointed) return;
    const data: Checkpoint = { position: processed.toString(), rules: rulesHash, state: engine.snapshot() };
    const written = await events.append(checkpoints, [
      {
        id: uuidv5(`${id}:checkpoint:${processed}:${rulesHash}`, NAMESPACE),
        type: 'complexEventsCheckpointed',
        data: data as unknown as JsonValue,
        metadata: { principal: `actor:complex-${id}`, schemaVersion: 1 },
      },
    ]);
    checkpointed = processed;
    sinceCheckpoint = 0;
    // Only the newest checkpoint is ever read.
    if (written.nextExpectedRevision > 0n)
      await events
        .truncateStream(checkpoints, written.nextExpectedRevision)
        .catch((error: unknown) => log.warn({ err: error }, 'older checkpoints not removed'));
  }

  function inputOf(event: RecordedEvent): AnalyticsEvent | null {
    const d = event.data as { name?: unknown; labels?: unknown; ts?: unknown };
    if (typeof d.name !== 'string' || typeof d.ts !== 'number' || typeof d.labels !== 'object' || !d.labels)
      return null;
    return {
      id: event.position.toString(),
      type: event.type,
      name: d.name,
      labels: d.labels as Record<string, string>,
      ts: d.ts,
    };
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const input = inputOf(event);
    const raised = input ? engine.push(input) : [];
    // One append each: every complex event is its own idempotent retry.
    for (const c of raised) {
      await events.append(output, [
        {
          id: uuidv5(`${id}:${c.rule}:${c.causes.join(',')}`, NAMESPACE),
          type: 'complexEventDetected',
          data: { rule: c.rule, ts: c.ts, group: c.group, causes: [...c.causes] },
          metadata: {
            principal: `actor:complex-${id}`,
            causationId: event.position.toString(),
            schemaVersion: 1,
          },
        },
      ]);
      detected++;
    }
    processed = event.position;
    if (++sinceCheckpoint >= checkpointEvery) await checkpoint();
    progress.advanced();
  }

  async function follow(): Promise<void> {
    await load();
    const subscription = events.subscribeToAll({
      ...(processed === null ? {} : { after: processed }),
      filter: FILTER,
    });
    closeSubscription = () => subscription.close();
    for await (const message of subscription) {
      if (stopRequested) break;
      if (message.kind === 'event') await handle(message.event);
    }
    if (!stopRequested) throw new Error('the event store ended the subscription');
  }

  return {
    async start() {
      if (!rules.length) return;
      stopRequested = false;
      running = supervise({
        work: follow,
        stopped: () => stopRequested,
        onFailure: (error, attempt) => {
          lastError = error instanceof Error ? error.message : String(error);
          log.error({ err: error, attempt }, 'complex-event processing failed; resuming from its checkpoint');
        },
        sleep,
      });
    },
    async stop(stopOptions) {
      stopRequested = true;
      wakeAll();
      await closeSubscription?.();
      await running;
      running = null;
      if (stopOptions?.checkpoint !== false)
        await checkpoint().catch((error: unknown) => log.warn({ err: error }, 'final checkpoint failed'));
    },
    waitFor: (position) => progress.waitFor(position),
    status: () => ({ id, processedPosition: processed?.toString() ?? null, detected, lastError }),
  };
}
