import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import type { ActorHost } from '../actors/host.js';
import { decodeBatch, encodeBatch } from '../domain/metrics/batch.js';
import type { SeriesDef } from '../domain/metrics/kinds.js';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import {
  ENGINE_SNAPSHOT_FORMAT,
  type EngineSnapshot,
  hasFindings,
  PipelineEngine,
  type Sample,
} from '../domain/pipeline/engine.js';
import { seriesFindingEvents } from '../domain/pipeline/findings.js';
import { createProgress } from '../runtime/progress.js';
import { supervise, wakeableSleep } from '../runtime/supervise.js';
import type { EventStore, JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';

export interface PipelineRuntimeOptions {
  readonly definition: PipelineDefinition;
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** A checkpoint of the pipeline's state is recorded every this many emissions (default 20). */
  readonly checkpointEvery?: number;
  /** Checkpoints larger than this many characters of JSON are written in parts (tests make it small). */
  readonly checkpointPartChars?: number;
  readonly now?: () => number;
}

export interface PipelineStatus {
  readonly id: string;
  readonly state: 'stopped' | 'catchingUp' | 'live' | 'retrying';
  readonly mode: 'realtime' | 'microbatch';
  readonly processedPosition: string | null;
  readonly checkpointPosition: string | null;
  readonly watermark: number | null;
  readonly emissions: number;
  readonly lastError: string | null;
}

export interface PipelineRuntime {
  readonly id: string;
  start(): Promise<void>;
  /** `checkpoint: false` stops as a crash would: nothing more is recorded (for drills and tests). */
  stop(options?: { checkpoint?: boolean }): Promise<void>;
  status(): PipelineStatus;
  /** Resolves once every source batch up to `position` (default: the head now) has been processed. */
  waitFor(position?: Position | null): Promise<void>;
}

interface Counters {
  out: number;
  quality: number;
  state: number;
}

interface Checkpoint {
  readonly sourcePosition: string;
  readonly definitionHash: string;
  readonly counters: Counters;
  readonly mode: 'realtime' | 'microbatch';
  readonly rate: number;
  readonly lastCreatedAt: number | null;
  readonly micro: { readonly samples: number; readonly openedAt: number | null };
  readonly emissions: number;
  readonly engine: EngineSnapshot;
}

const NAMESPACE = '2d7c6f0b-8a4e-4c1d-9b3f-5e6a7d8c9b01';
const RATE_SMOOTHING = 0.3;
const CHECKPOINT_EVERY_SOURCE_BATCHES = 1000;
/**
 * A checkpoint larger than this (characters of JSON) is written as parts of this size, each its own
 * append, then a `pipelineCheckpointed` marker naming how many parts precede it: a store's limit on
 * one event or one append (EventStoreDB: 1 MiB per append by default) never stops a checkpoint.
 */
export const CHECKPOINT_PART_CHARS = 512 * 1024;

/**
 * Runs one streaming pipeline on the log. It reads `batchFlushed` events from every `samples-*`
 * stream (but its own output), feeds the routed samples to its engine, and emits:
 * - derived samples as batches in `samples-pipeline_<id>` (so the metric series projection stores them),
 * - findings — anomalies, trend changes, quality issues and late samples — in `findings-<id>`,
 * - checkpoints of its whole state in `pipelinestate-<id>`, every few emissions.
 *
 * Emissions happen only at boundaries the log itself decides (a source batch; in micro-batch mode the
 * first source batch that fills the micro-batch or arrives `maxDelayMs` after it opened, by the events'
 * recorded times), every event id derives from the source position that triggered it, and each output
 * stream is appended at an exact expected revision. After a crash the pipeline restores its last
 * checkpoint and reprocesses from there: it emits the same events at the same revisions, which the
 * event store accepts as retries, so nothing is doubled.
 *
 * Modes: `realtime` emits after every source batch; `microbatch` after a micro-batch; `hybrid` starts
 * real-time, switches to micro-batch when the input rate (an EWMA over source batches, by their
 * recorded times) rises above `highSamplesPerSecond`, and back below `lowSamplesPerSecond`.
 */
export function createPipelineRuntime(options: PipelineRuntimeOptions): PipelineRuntime {
  const { definition, events, host, logger } = options;
  const id = definition.id;
  const log = logger.child({ pipeline: id });
  const streams = { out: `samples-pipeline_${id}`, quality: `findings-${id}`, state: `pipelinestate-${id}` };
  const definitionHash = createHash('sha256').update(JSON.stringify(definition)).digest('hex');
  const checkpointEvery = options.checkpointEvery ?? 20;
  const partChars = options.checkpointPartChars ?? CHECKPOINT_PART_CHARS;
  const now = options.now ?? Date.now;

  let engine = new PipelineEngine(definition);
  let counters: Counters = { out: 0, quality: 0, state: 0 };
  let mode: 'realtime' | 'microbatch' = definition.mode === 'microbatch' ? 'microbatch' : 'realtime';
  let rate = 0;
  let lastCreatedAt: number | null = null;
  let micro = { samples: 0, openedAt: null as number | null };
  let emissions = 0;
  /** Source batches handled since the last checkpoint. */
  let sinceCheckpoint = 0;
  let processed: Position | null = null;
  let checkpointed: Position | null = null;
  let state: PipelineStatus['state'] = 'stopped';
  let lastError: string | null = null;
  let stopRequested = false;
  let running: Promise<void> | null = null;
  let closeSubscription: (() => Promise<void>) | null = null;
  const routed = new Map<string, boolean>();
  const progress = createProgress({
    events,
    filter: { categories: ['samples'], eventTypes: ['batchFlushed'] },
    accept: (event) => event.streamId !== streams.out,
    position: () => processed,
  });
  const { sleep, wakeAll } = wakeableSleep();

  const eventId = (kind: string, position: Position) => uuidv5(`${id}:${kind}:${position}`, NAMESPACE);
  const expected = (count: number) => (count === 0 ? ('noStream' as const) : BigInt(count - 1));

  async function appendTo(
    stream: keyof Counters,
    type: string,
    position: Position,
    data: JsonValue,
  ): Promise<void> {
    await appendMany(stream, position, [{ type, data }]);
  }

  /** Appends events to one of the pipeline's streams at its exact next revision, ids from the trigger. */
  async function appendMany(
    stream: keyof Counters,
    position: Position,
    items: readonly { type: string; data: JsonValue }[],
  ): Promise<void> {
    if (!items.length) return;
    await events.append(
      streams[stream],
      items.map((item, i) => ({
        id: eventId(`${stream}:${item.type}:${i}`, position),
        type: item.type,
        data: item.data,
        metadata: { principal: `actor:pipeline-${id}`, causationId: position.toString(), schemaVersion: 1 },
      })),
      { expectedRevision: expected(counters[stream]) },
    );
    counters[stream] += items.length;
  }

  function batchOf(samples: readonly Sample[], seq: number) {
    const series: SeriesDef[] = [];
    const index = new Map<string, number>();
    const seriesIndex = new Uint32Array(samples.length);
    const timestamps = new Float64Array(samples.length);
    const values = new Float64Array(samples.length);
    samples.forEach((s, i) => {
      let local = index.get(s.def.id);
      if (local === undefined) {
        local = series.length;
        series.push(s.def);
        index.set(s.def.id, local);
      }
      seriesIndex[i] = local;
      timestamps[i] = s.ts;
      values[i] = s.value;
    });
    return encodeBatch({
      agentId: `pipeline_${id}`,
      seq,
      series,
      seriesIndex,
      timestamps,
      values,
    }) as unknown as JsonValue;
  }

  async function emit(trigger: RecordedEvent): Promise<void> {
    const result = engine.tick();
    const position = trigger.position;
    if (result.derived.length)
      await appendTo('out', 'batchFlushed', position, batchOf(result.derived, counters.out));
    await appendMany(
      'quality',
      position,
      seriesFindingEvents(result, position.toString()).map((e) => ({
        type: e.type,
        data: e.data as unknown as JsonValue,
      })),
    );
    if (hasFindings(result.findings)) {
      await appendTo('quality', 'qualityIssuesFound', position, {
        sourcePosition: position.toString(),
        watermark: Number.isFinite(result.watermark) ? result.watermark : null,
        ...result.findings,
        gaps: result.findings.gaps.map(([seriesId, from, to]) => ({ seriesId, from, to })),
      } as unknown as JsonValue);
    }
    if (result.late.length) {
      await appendTo('quality', 'lateSamplesRouted', position, {
        sourcePosition: position.toString(),
        batch: batchOf(result.late, counters.quality),
      });
    }
    emissions++;
    if (emissions % checkpointEvery === 0) await checkpoint(position);
  }

  async function checkpoint(position: Position): Promise<void> {
    const data: Checkpoint = {
      sourcePosition: position.toString(),
      definitionHash,
      counters: { ...counters },
      mode,
      rate,
      lastCreatedAt,
      micro,
      emissions,
      engine: engine.snapshot(),
    };
    const first = counters.state;
    const json = JSON.stringify(data);
    if (json.length <= partChars) {
      await appendTo('state', 'pipelineCheckpointed', position, data as unknown as JsonValue);
    } else {
      const parts = Math.ceil(json.length / partChars);
      for (let index = 0; index < parts; index++) {
        await events.append(
          streams.state,
          [
            {
              id: eventId(`state:pipelineCheckpointPart:${index}`, position),
              type: 'pipelineCheckpointPart',
              data: {
                sourcePosition: data.sourcePosition,
                index,
                parts,
                json: json.slice(index * partChars, (index + 1) * partChars),
              },
              metadata: {
                principal: `actor:pipeline-${id}`,
                causationId: position.toString(),
                schemaVersion: 1,
              },
            },
          ],
          { expectedRevision: expected(counters.state) },
        );
        counters.state++;
      }
      await appendTo('state', 'pipelineCheckpointed', position, {
        sourcePosition: data.sourcePosition,
        parts,
      });
    }
    checkpointed = position;
    sinceCheckpoint = 0;
    // Only the newest complete checkpoint is ever read: the older ones (and parts a crash left behind) go.
    if (first > 0)
      await events
        .truncateStream(streams.state, BigInt(first))
        .catch((error: unknown) => log.warn({ err: error }, 'older checkpoints not removed'));
  }

  /** The newest complete checkpoint, and the revision of its last event; null when there is none. */
  async function latestCheckpoint(): Promise<{ saved: Checkpoint; revision: bigint } | null> {
    for await (const event of events.readStream(streams.state, { direction: 'backwards' })) {
      if (event.type !== 'pipelineCheckpointed') continue; // parts of a checkpoint a crash interrupted
      const marker = event.data as unknown as Partial<{ parts: number }> & Checkpoint;
      if (marker.parts === undefined) return { saved: marker, revision: event.revision };
      let json = '';
      const from = event.revision - BigInt(marker.parts);
      for await (const part of events.readStream(streams.state, {
        fromRevision: from,
        maxCount: marker.parts,
      })) {
        const d = part.data as { index: number; json: string };
        if (part.type !== 'pipelineCheckpointPart' || part.revision !== from + BigInt(d.index))
          throw new Error(
            `checkpoint at revision ${event.revision} of ${streams.state} is missing part ${part.revision - from}`,
          );
        json += d.json;
      }
      return { saved: JSON.parse(json) as Checkpoint, revision: event.revision };
    }
    return null;
  }

  async function restore(): Promise<void> {
    const latest = await latestCheckpoint();
    const saved = latest?.saved ?? null;
    routed.clear();
    // Everything starts from the checkpoint (or from nothing): no value of a failed run survives.
    engine = new PipelineEngine(definition);
    counters = { out: 0, quality: 0, state: 0 };
    mode = definition.mode === 'microbatch' ? 'microbatch' : 'realtime';
    rate = 0;
    lastCreatedAt = null;
    micro = { samples: 0, openedAt: null };
    emissions = 0;
    sinceCheckpoint = 0;
    processed = null;
    checkpointed = null;
    if (!saved || !latest) return;
    // The state stream goes on after the checkpoint's own last event.
    counters = { ...saved.counters, state: Number(latest.revision) + 1 };
    processed = BigInt(saved.sourcePosition);
    checkpointed = processed;
    emissions = saved.emissions;
    if (saved.definitionHash === definitionHash && saved.engine.format === ENGINE_SNAPSHOT_FORMAT) {
      engine = new PipelineEngine(definition, saved.engine);
      mode = saved.mode;
      rate = saved.rate;
      lastCreatedAt = saved.lastCreatedAt;
      micro = { ...saved.micro };
    } else {
      // A new definition (or a checkpoint of an older layout) starts with fresh state. It must not
      // emit again for source batches the old one already emitted for (after a crash, those past the
      // checkpoint): it goes on after the last source batch any output names, at the streams' heads.
      for (const stream of ['out', 'quality'] as const) {
        for await (const last of events.readStream(streams[stream], {
          direction: 'backwards',
          maxCount: 1,
        })) {
          counters[stream] = Number(last.revision) + 1;
          const cause = BigInt(String(last.metadata.causationId ?? '0'));
          if (processed === null || cause > processed) processed = cause;
        }
      }
      log.info(
        { after: processed?.toString() },
        'definition or state layout changed since the last checkpoint: starting with fresh state',
      );
    }
  }

  async function updateMode(event: RecordedEvent, samples: number): Promise<void> {
    const at = event.createdAt.getTime();
    if (lastCreatedAt !== null && at > lastCreatedAt) {
      const instant = samples / ((at - lastCreatedAt) / 1000);
      rate = rate === 0 ? instant : RATE_SMOOTHING * instant + (1 - RATE_SMOOTHING) * rate;
    }
    lastCreatedAt = at;
    if (definition.mode !== 'hybrid') return;
    const next =
      mode === 'realtime' && rate > definition.hybrid.highSamplesPerSecond
        ? 'microbatch'
        : mode === 'microbatch' && rate < definition.hybrid.lowSamplesPerSecond
          ? 'realtime'
          : mode;
    if (next === mode) return;
    const from = mode;
    mode = next;
    micro = { samples: 0, openedAt: null };
    await host
      .send(
        { kind: 'pipeline', id },
        {
          type: 'modeSwitched',
          from,
          to: next,
          inputSamplesPerSecond: Math.round(rate),
          sourcePosition: event.position.toString(),
        },
        { principal: `actor:pipeline-${id}`, commandId: `mode:${event.position}` },
      )
      .catch((error: unknown) => log.warn({ err: error }, 'mode switch not recorded'));
  }

  async function handle(event: RecordedEvent): Promise<void> {
    if (event.streamId === streams.out) return;
    const batch = decodeBatch(event.data);
    // Routing and slots once per series of the batch; then per sample only numbers.
    const slots = new Int32Array(batch.series.length);
    for (const [k, def] of batch.series.entries()) {
      let admit = routed.get(def.id);
      if (admit === undefined) {
        admit = engine.routes(def);
        routed.set(def.id, admit);
      }
      slots[k] = admit ? engine.slotOf(def) : -1;
    }
    let count = 0;
    for (let i = 0; i < batch.values.length; i++) {
      const slot = slots[batch.seriesIndex[i]!]!;
      if (slot < 0) continue;
      engine.acceptAt(slot, batch.timestamps[i]!, batch.values[i]!);
      count++;
    }
    if (count === 0) return;
    await updateMode(event, count);
    if (mode === 'realtime') return emit(event);
    const at = event.createdAt.getTime();
    micro.openedAt ??= at;
    micro.samples += count;
    if (
      micro.samples >= definition.microbatch.maxSamples ||
      at - micro.openedAt >= definition.microbatch.maxDelayMs
    ) {
      micro = { samples: 0, openedAt: null };
      await emit(event);
    }
  }

  async function follow(): Promise<void> {
    await restore();
    progress.advanced();
    const subscription = events.subscribeToAll({
      ...(processed === null ? {} : { after: processed }),
      filter: { categories: ['samples'], eventTypes: ['batchFlushed'] },
    });
    closeSubscription = () => subscription.close();
    state = 'catchingUp';
    try {
      for await (const message of subscription) {
        if (stopRequested) break;
        if (message.kind === 'caughtUp') {
          state = 'live';
          continue;
        }
        await handle(message.event);
        processed = message.event.position;
        // A pipeline that routes little still checkpoints now and then (at a boundary the log decides),
        // so that it never holds back the scavenging of old source batches for long.
        if (++sinceCheckpoint >= CHECKPOINT_EVERY_SOURCE_BATCHES) await checkpoint(processed);
        progress.advanced();
      }
      if (!stopRequested) throw new Error('the event store ended the subscription');
    } finally {
      await subscription.close();
      closeSubscription = null;
    }
  }

  return {
    id,
    async start() {
      if (running) return;
      stopRequested = false;
      const actor = await host.get({ kind: 'pipeline', id }).catch(() => null);
      const current = (actor?.context as { definition?: unknown } | undefined)?.definition;
      if (JSON.stringify(current ?? null) !== JSON.stringify(definition)) {
        await host.send(
          { kind: 'pipeline', id },
          { type: 'pipelineDefined', definition },
          { principal: 'system:config', commandId: `define:${definitionHash}` },
        );
      }
      await host.send(
        { kind: 'pipeline', id },
        { type: 'pipelineStarted', resumedAfter: null, at: now() },
        { principal: 'system:service' },
      );
      running = supervise({
        work: follow,
        stopped: () => stopRequested,
        sleep,
        onFailure: (error, attempt) => {
          lastError = error instanceof Error ? error.message : String(error);
          state = 'retrying';
          log.error({ err: error, attempt }, 'pipeline failed; resuming from its last checkpoint');
        },
      }).finally(() => {
        state = 'stopped';
        running = null;
      });
    },

    async stop({ checkpoint: final = true } = {}) {
      stopRequested = true;
      wakeAll();
      await closeSubscription?.();
      await running;
      if (!final) return;
      if (processed !== null && processed !== checkpointed)
        await checkpoint(processed).catch((e) => log.warn({ err: e }, 'final checkpoint failed'));
      await host
        .send(
          { kind: 'pipeline', id },
          { type: 'pipelineStopped', at: now() },
          { principal: 'system:service' },
        )
        .catch((e: unknown) => log.warn({ err: e }, 'pipelineStopped not recorded'));
    },

    status() {
      const watermark = engine.watermark;
      return {
        id,
        state,
        mode,
        processedPosition: processed?.toString() ?? null,
        checkpointPosition: checkpointed?.toString() ?? null,
        watermark: Number.isFinite(watermark) ? watermark : null,
        emissions,
        lastError,
      };
    },

    waitFor: (position) => progress.waitFor(position),
  };
}
