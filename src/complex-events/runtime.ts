import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import {
  type AnalyticsEvent,
  COMPLEX_EVENT_INPUTS,
  type ComplexRule,
  createComplexEventEngine,
} from '../domain/analytics/complex-events.js';
import { checkFact, factVersion, readFactOf } from '../domain/facts.js';
import { envelope, type Source, sourcePositionOf } from '../runtime/envelope.js';
import { type ConsumerStatus, createLogConsumer } from '../runtime/log-consumer.js';
import type { EventStore, JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';

export interface ComplexEventRuntimeOptions {
  readonly id?: string;
  readonly rules: readonly ComplexRule[];
  readonly events: EventStore;
  readonly logger: Logger;
  /** A checkpoint of the rules' partial matches is recorded every this many input events (default 200). */
  readonly checkpointEvery?: number;
  /**
   * No finding at or before this log position is judged (the position of the rule change that put
   * these rules in force: rules judge what comes after them). Default: none, from the checkpoint, or
   * from the start of the log.
   */
  readonly startAfter?: Position | null;
}

export interface ComplexEventRuntime {
  start(): Promise<void>;
  /** `checkpoint: false` stops as a crash would (for drills and tests). */
  stop(options?: { checkpoint?: boolean }): Promise<void>;
  /** Resolves once every input event up to `position` (default: the head now) has been handled. */
  waitFor(position?: Position | null): Promise<void>;
  status(): {
    id: string;
    processedPosition: string | null;
    detected: number;
    lastError: string | null;
    consumer: ConsumerStatus;
  };
}

const NAMESPACE = 'c3b1d7a4-5e2f-4a8b-9c60-1f2e3d4c5b6a';
const INPUTS = [...COMPLEX_EVENT_INPUTS];

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
  const principal = `actor:complex-${id}`;
  const output = `complex-${id}`;
  const checkpoints = `complexstate-${id}`;
  const checkpointEvery = options.checkpointEvery ?? 200;
  const rulesHash = createHash('sha256').update(JSON.stringify(rules)).digest('hex').slice(0, 16);
  let engine = createComplexEventEngine(rules);
  let processed: Source | null = null;
  let checkpointed: Position | null = null;
  let sinceCheckpoint = 0;
  let detected = 0;
  let finalCheckpoint = true;

  /** The newest checkpoint under these rules; under other rules, after the last finding that raised something. */
  async function load(): Promise<Position | null> {
    engine = createComplexEventEngine(rules);
    let resume: Position | null = null;
    let fresh = false;
    for await (const event of events.readStream(checkpoints, { direction: 'backwards', maxCount: 1 })) {
      const saved = readFactOf(event, 'complexEventsCheckpointed').data;
      resume = BigInt(saved.position);
      if (saved.rules === rulesHash) engine.restore(saved.state);
      else fresh = true;
    }
    checkpointed = resume;
    processed = null;
    sinceCheckpoint = 0;
    if (fresh) {
      // New rules would raise other events for the findings already judged under the old ones: they
      // start after the last finding that raised something, rather than judge it again.
      for await (const last of events.readStream(output, { direction: 'backwards', maxCount: 1 })) {
        const cause = sourcePositionOf(last.metadata) ?? 0n;
        if (resume === null || cause > resume) resume = cause;
      }
      log.info({ after: resume?.toString() }, 'complex-event rules changed: starting with fresh state');
    }
    const startAfter = options.startAfter ?? null;
    if (startAfter !== null && (resume === null || resume < startAfter)) {
      // Rules put in force after the checkpoint: partial matches from before them do not count.
      engine = createComplexEventEngine(rules);
      resume = startAfter;
    }
    return resume;
  }

  async function checkpoint(): Promise<void> {
    if (processed === null || processed.position === checkpointed) return;
    const source = processed;
    const data = checkFact('complexEventsCheckpointed', {
      position: source.position.toString(),
      rules: rulesHash,
      state: engine.snapshot(),
    });
    const eventId = uuidv5(`${id}:checkpoint:${source.position}:${rulesHash}`, NAMESPACE);
    const written = await events.append(checkpoints, [
      {
        id: eventId,
        type: 'complexEventsCheckpointed',
        data: data as unknown as JsonValue,
        metadata: envelope(
          { principal, schemaVersion: factVersion('complexEventsCheckpointed'), source },
          eventId,
        ),
      },
    ]);
    checkpointed = source.position;
    sinceCheckpoint = 0;
    // Only the newest checkpoint is ever read.
    if (written.nextExpectedRevision > 0n)
      await events
        .truncateStream(checkpoints, written.nextExpectedRevision)
        .catch((error: unknown) => log.warn({ err: error }, 'older checkpoints not removed'));
  }

  function inputOf(event: RecordedEvent): AnalyticsEvent {
    const { data } = readFactOf(event, ...INPUTS);
    return {
      id: event.position.toString(),
      type: event.type,
      name: data.name,
      labels: data.labels,
      ts: data.ts,
    };
  }

  async function handle(event: RecordedEvent): Promise<void> {
    // One append each: every complex event is its own idempotent retry.
    for (const c of engine.push(inputOf(event))) {
      const eventId = uuidv5(`${id}:${c.rule}:${c.causes.join(',')}`, NAMESPACE);
      const data = checkFact('complexEventDetected', {
        rule: c.rule,
        ts: c.ts,
        group: c.group,
        causes: [...c.causes],
      });
      await events.append(output, [
        {
          id: eventId,
          type: 'complexEventDetected',
          data: data as unknown as JsonValue,
          metadata: envelope(
            { principal, schemaVersion: factVersion('complexEventDetected'), source: event },
            eventId,
          ),
        },
      ]);
      detected++;
    }
    processed = event;
    if (++sinceCheckpoint >= checkpointEvery) await checkpoint();
  }

  const consumer = createLogConsumer({
    name: `complexevents:${id}`,
    events,
    logger: log,
    filter: { categories: ['findings'], eventTypes: INPUTS },
    handler: {
      load,
      async handle(batch) {
        for (const event of batch) await handle(event);
      },
      async close() {
        if (finalCheckpoint) await checkpoint();
      },
    },
  });

  return {
    async start() {
      if (!rules.length) return;
      finalCheckpoint = true;
      consumer.start();
    },
    async stop(stopOptions) {
      finalCheckpoint = stopOptions?.checkpoint !== false;
      await consumer.stop();
    },
    waitFor: (position) => consumer.waitFor(position),
    status: () => {
      const own = consumer.status();
      return { id, processedPosition: own.position, detected, lastError: own.lastError, consumer: own };
    },
  };
}
