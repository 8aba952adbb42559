import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import type { ModelRegistry } from '../actors/model.registry.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { checkFact, factVersion, readFactOf } from '../domain/facts.js';
import { decodePayload } from '../domain/metrics/batch.js';
import {
  featureRows,
  type ModelAttached,
  type PredictionsMade,
  type ScorerInput,
} from '../domain/model/predictions.js';
import { envelope, sourcePositionOf } from '../runtime/envelope.js';
import { type ConsumerStatus, createLogConsumer, type LogConsumer } from '../runtime/log-consumer.js';
import type { EventStore, JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';

const NAMESPACE = '7b0e3c52-1f4d-4a8e-b6c9-2d5f8a1e3b47';
const STREAM = 'scorers-main';
const PRINCIPAL = 'system:scorer';

/** An attachment as its facts leave it, with where in the log it began. */
export interface Attachment extends ModelAttached {
  readonly position: Position;
  readonly detached: { readonly by: string; readonly at: number } | null;
}

export interface ScorerStatus {
  readonly id: string;
  readonly predictions: number;
  readonly lastError: string | null;
  readonly consumer: ConsumerStatus;
}

/**
 * Models attached to live series (facts in `scorers-main`) and one scorer per active attachment: a
 * consumer of the log that reads sample batches, builds feature rows (`featureRows`: the latest value
 * of each input as of each sample of the first input), predicts with the model's deployed version held
 * in memory, and appends the rows' predictions as `predictionsMade` facts to
 * `predictions-<attachmentId>`, each caused by its source batch. Each fact carries the scorer's state
 * after its batch, and its id derives from the batch's position and is appended at the stream's exact
 * next revision: after a crash the scorer resumes after the last batch it recorded, and what it
 * records again is taken as a retry, never twice.
 */
export function createScorers(deps: {
  readonly events: EventStore;
  readonly models: ModelRegistry;
  readonly logger: Logger;
  readonly now?: () => number;
}) {
  const { events, models } = deps;
  const log = deps.logger.child({ component: 'scorers' });
  const now = deps.now ?? Date.now;
  const running = new Map<string, { consumer: LogConsumer; status: () => ScorerStatus }>();
  let revision: bigint | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let started = false;

  async function fold(): Promise<Map<string, Attachment>> {
    const out = new Map<string, Attachment>();
    revision = null;
    for await (const event of events.readStream(STREAM)) {
      revision = event.revision;
      const fact = readFactOf(event, 'modelAttached', 'modelDetached');
      if (fact.type === 'modelAttached')
        out.set(fact.data.id, { ...fact.data, position: event.position, detached: null });
      else {
        const known = out.get(fact.data.id);
        if (known) out.set(known.id, { ...known, detached: { by: fact.data.by, at: fact.data.at } });
      }
    }
    return out;
  }

  function scorer(att: Attachment) {
    const stream = `predictions-${att.id}`;
    const wanted = new Set(att.seriesIds);
    const latest = new Map<string, { ts: number; value: number }>();
    let lastScored: number | null = null;
    let next: bigint | null = null;
    let made = 0;
    let lastError: string | null = null;

    async function load(): Promise<Position | null> {
      latest.clear();
      lastScored = null;
      next = null;
      for await (const event of events.readStream(stream, { direction: 'backwards', maxCount: 1 })) {
        const fact = readFactOf(event, 'predictionsMade');
        next = event.revision + 1n;
        for (const i of fact.data.inputs) latest.set(i.seriesId, { ts: i.ts, value: i.value });
        lastScored = fact.data.lastScoredTs;
        const source = sourcePositionOf(event.metadata) ?? 0n;
        if (source > att.position) return source;
        // Attached again after a detachment: it starts anew after its new attachment.
        latest.clear();
        lastScored = null;
      }
      return att.position;
    }

    async function handle(batch: readonly RecordedEvent[]): Promise<void> {
      const facts: { event: RecordedEvent; data: PredictionsMade }[] = [];
      for (const event of batch) {
        const samples = decodePayload(readFactOf(event, 'batchFlushed').data);
        const picked: ScorerInput[] = [];
        for (let i = 0; i < samples.values.length; i++) {
          const id = samples.series[samples.seriesIndex[i]!]!.id;
          if (wanted.has(id))
            picked.push({ seriesId: id, ts: samples.timestamps[i]!, value: samples.values[i]! });
        }
        if (!picked.length) continue;
        const before = lastScored;
        const { rows, lastScored: scored } = featureRows(att.seriesIds, att.every, latest, before, picked);
        lastScored = scored;
        if (!rows.length) continue;
        let result: Awaited<ReturnType<ModelRegistry['predict']>>;
        try {
          // The deployed version, loaded once and kept in memory by the registry.
          result = await models.predict(att.modelId, { rows: rows.map((r) => r.row) });
        } catch (error) {
          // No deployed version, or one of another shape: these rows are not scored (said by status).
          if (!(error instanceof ValidationError || error instanceof NotFoundError)) throw error;
          lastError = error.message;
          lastScored = before;
          continue;
        }
        const values = result.predictions;
        const predictions = rows.flatMap((r, i) =>
          Number.isFinite(values[i]) ? [{ ts: r.ts, seriesId: att.seriesIds[0]!, value: values[i]! }] : [],
        );
        if (!predictions.length) continue;
        facts.push({
          event,
          data: {
            attachmentId: att.id,
            modelId: att.modelId,
            version: result.version,
            predictions,
            inputs: [...latest].map(([seriesId, v]) => ({ seriesId, ts: v.ts, value: v.value })),
            lastScoredTs: lastScored,
          },
        });
      }
      if (!facts.length) return;
      const result = await events.append(
        stream,
        facts.map(({ event, data }) => {
          const eventId = uuidv5(`${stream}:${event.position}`, NAMESPACE);
          return {
            id: eventId,
            type: 'predictionsMade',
            data: checkFact('predictionsMade', data) as unknown as JsonValue,
            metadata: envelope(
              { principal: PRINCIPAL, schemaVersion: factVersion('predictionsMade'), source: event },
              eventId,
            ),
          };
        }),
        { expectedRevision: next === null ? 'noStream' : next - 1n },
      );
      next = result.nextExpectedRevision + 1n;
      made += facts.reduce((n, f) => n + f.data.predictions.length, 0);
      lastError = null;
    }

    const consumer = createLogConsumer({
      name: `scorer:${att.id}`,
      events,
      logger: log,
      filter: { categories: ['samples'], eventTypes: ['batchFlushed'] },
      batch: { size: 100, maxDelayMs: 0 },
      handler: { load, handle: (batch) => handle(batch) },
    });
    return {
      consumer,
      status: (): ScorerStatus => ({
        id: att.id,
        predictions: made,
        lastError,
        consumer: consumer.status(),
      }),
    };
  }

  function run(att: Attachment): void {
    if (running.has(att.id) || att.detached) return;
    const s = scorer(att);
    running.set(att.id, s);
    s.consumer.start();
  }

  /** One change at a time, at the stream's exact next revision. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  }

  async function record(type: 'modelAttached' | 'modelDetached', data: unknown): Promise<void> {
    const eventId = uuidv5(`${STREAM}:${revision ?? -1n}:${type}`, NAMESPACE);
    await events.append(
      STREAM,
      [
        {
          id: eventId,
          type,
          data: checkFact(type, data) as unknown as JsonValue,
          metadata: envelope(
            {
              principal: (data as { by: string }).by,
              schemaVersion: factVersion(type),
              causationId: `attachment:${(data as { id: string }).id}`,
            },
            eventId,
          ),
        },
      ],
      { expectedRevision: revision === null ? 'noStream' : revision },
    );
  }

  return {
    async start(): Promise<void> {
      started = true;
      for (const att of (await fold()).values()) run(att);
    },
    async stop(): Promise<void> {
      started = false;
      await queue;
      await Promise.all([...running.values()].map((s) => s.consumer.stop()));
      running.clear();
    },
    /** Every attachment, detached ones included, in the order they were made. */
    list: async (): Promise<Attachment[]> => [...(await fold()).values()],
    async attach(
      input: { id: string; modelId: string; seriesIds: readonly string[]; every: number | null },
      by: string,
    ): Promise<Attachment> {
      return serial(async () => {
        const known = (await fold()).get(input.id);
        if (known && !known.detached) throw new ConflictError(`attachment ${input.id} already exists`);
        await record('modelAttached', { ...input, seriesIds: [...input.seriesIds], by, at: now() });
        const att = (await fold()).get(input.id)!;
        if (started) run(att);
        return att;
      });
    },
    async detach(id: string, by: string): Promise<Attachment> {
      return serial(async () => {
        const known = (await fold()).get(id);
        if (!known || known.detached) throw new NotFoundError(`no active attachment ${id}`);
        await record('modelDetached', { id, by, at: now() });
        const s = running.get(id);
        running.delete(id);
        await s?.consumer.stop();
        return (await fold()).get(id)!;
      });
    },
    /** The running scorers, for health. */
    statuses: (): ScorerStatus[] => [...running.values()].map((s) => s.status()),
    /** Resolves once every scorer has handled the log up to its head now (tests). */
    async waitFor(): Promise<void> {
      await Promise.all([...running.values()].map((s) => s.consumer.waitFor()));
    },
  };
}

export type Scorers = ReturnType<typeof createScorers>;
