import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import type { ActorHost } from '../actors/host.js';
import { checkFact, type FactType, factVersion, readFactOf } from '../domain/facts.js';
import { decodePayload, encodeBatch } from '../domain/metrics/batch.js';
import type { SeriesDef } from '../domain/metrics/kinds.js';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import {
  ENGINE_SNAPSHOT_FORMAT,
  hasFindings,
  PipelineEngine,
  type Sample,
} from '../domain/pipeline/engine.js';
import { seriesFindingEvents } from '../domain/pipeline/findings.js';
import type { SeriesAnalytics, SeriesRecord } from '../domain/pipeline/series-analytics.js';
import { envelope, type Source, sourcePositionOf } from '../runtime/envelope.js';
import { type ConsumerStatus, createLogConsumer } from '../runtime/log-consumer.js';
import type { EventStore, JsonValue, Position, RecordedEvent } from '../stores/event-store/port.js';
import {
  type Counters,
  createCheckpointStore,
  type PipelineCheckpoint,
  type SeriesRecords,
} from './checkpoints.js';

export { CHECKPOINT_PART_CHARS } from './checkpoints.js';

export interface PipelineRuntimeOptions {
  readonly definition: PipelineDefinition;
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** A checkpoint of the pipeline's state is recorded every this many emissions (default 20)… */
  readonly checkpointEvery?: number;
  /**
   * …but not sooner than this many milliseconds after the last one (default 0): under a high rate a
   * checkpoint of every series' analytics is most of a pipeline's work. A crash then replays at most
   * this much more of the log (its emissions again, as retries).
   */
  readonly checkpointMinIntervalMs?: number;
  /** Checkpoints larger than this many characters of JSON are written in parts (tests make it small). */
  readonly checkpointPartChars?: number;
  /** Per-series analytics records are written in chunks of about this many characters (tests make it small). */
  readonly checkpointSeriesChunkChars?: number;
  /**
   * A series with no sample for this long (sample time, against the pipeline's watermark) has its
   * analytics state written out at the next checkpoint and dropped from memory; it is read back when
   * the series returns. Default 24 h.
   */
  readonly idleMs?: number;
  /**
   * Nothing at or before this log position is analysed (the position of the fact that defined the
   * pipeline: one defined after the log began takes what comes after its definition). Default: none,
   * the pipeline reads from its checkpoint, or from the start of the log.
   */
  readonly startAfter?: Position | null;
  readonly now?: () => number;
}

export interface PipelineStatus {
  readonly id: string;
  readonly state: ConsumerStatus['state'];
  readonly mode: 'realtime' | 'microbatch';
  readonly processedPosition: string | null;
  readonly checkpointPosition: string | null;
  readonly watermark: number | null;
  readonly emissions: number;
  readonly lastError: string | null;
  readonly consumer: ConsumerStatus;
  /**
   * The per-series analytics state (absent without analytics): series with state in memory, series
   * evicted (idle: state only in the checkpoint store), evictions and on-demand restores since start.
   */
  readonly series?: {
    readonly inMemory: number;
    readonly evicted: number;
    readonly evictions: number;
    readonly restoredOnDemand: number;
    /** Rows of the sliding windows, trends and shapes in memory (held by series in memory, or free for the next). */
    readonly bankRows: number;
  };
}

export interface PipelineRuntime {
  readonly id: string;
  start(): Promise<void>;
  /**
   * `checkpoint: false` stops as a crash would: nothing more is recorded (for drills and tests).
   * `record: false` takes the final checkpoint but records no `pipelineStopped`: the caller records why
   * it stops (a pause, a deletion).
   */
  stop(options?: { checkpoint?: boolean; record?: boolean }): Promise<void>;
  status(): PipelineStatus;
  /** Resolves once every source batch up to `position` (default: the head now) has been processed. */
  waitFor(position?: Position | null): Promise<void>;
}

const NAMESPACE = '2d7c6f0b-8a4e-4c1d-9b3f-5e6a7d8c9b01';
const RATE_SMOOTHING = 0.3;
const CHECKPOINT_EVERY_SOURCE_BATCHES = 1000;
const DEFAULT_IDLE_MS = 24 * 3_600_000;

/**
 * Runs one streaming pipeline as a consumer of the log. It reads `batchFlushed` events from every
 * `samples-*` stream (but its own output), feeds the routed samples to its engine, and emits:
 * - derived samples as batches in `samples-pipeline_<id>` (so the metric series projection stores them),
 * - findings — anomalies, trend changes, quality issues and late samples — in `findings-<id>`,
 * - checkpoints of its whole state in `pipelinestate-<id>`, every few emissions.
 *
 * Emissions happen only at boundaries the log itself decides (a source batch; in micro-batch mode the
 * first source batch that fills the micro-batch or arrives `maxDelayMs` after it opened, by the events'
 * recorded times), every event id derives from the source position that triggered it, and each output
 * stream is appended at an exact expected revision. After a crash the pipeline restores its last
 * checkpoint and reprocesses from there: it emits the same events at the same revisions, which the
 * event store accepts as retries, so nothing is doubled. Every fact is checked against its schema
 * before it is written.
 *
 * Modes: `realtime` emits after every source batch; `microbatch` after a micro-batch; `hybrid` starts
 * real-time, switches to micro-batch when the input rate (an EWMA over source batches, by their
 * recorded times) rises above `highSamplesPerSecond`, and back below `lowSamplesPerSecond`.
 */
export function createPipelineRuntime(options: PipelineRuntimeOptions): PipelineRuntime {
  const { definition, events, host, logger } = options;
  const id = definition.id;
  const log = logger.child({ pipeline: id });
  const principal = `actor:pipeline-${id}`;
  const streams = { out: `samples-pipeline_${id}`, quality: `findings-${id}` };
  const definitionHash = createHash('sha256').update(JSON.stringify(definition)).digest('hex');
  const checkpointEvery = options.checkpointEvery ?? 20;
  const checkpointMinIntervalMs = options.checkpointMinIntervalMs ?? 0;
  /** A checkpoint is due (by emissions) and waits for `checkpointMinIntervalMs` to pass. */
  let checkpointDue = false;
  let lastCheckpointAt = Number.NEGATIVE_INFINITY;
  const now = options.now ?? Date.now;
  const store = createCheckpointStore({
    pipelineId: id,
    events,
    logger: log,
    ...(options.checkpointPartChars ? { partChars: options.checkpointPartChars } : {}),
    ...(options.checkpointSeriesChunkChars ? { seriesChunkChars: options.checkpointSeriesChunkChars } : {}),
  });
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;

  let engine = trackingSeries(new PipelineEngine(definition));
  let counters: Counters = { out: 0, quality: 0 };
  /** The next revision of `pipelinestate-<id>`. */
  let stateRevision = 0;
  let mode: 'realtime' | 'microbatch' = definition.mode === 'microbatch' ? 'microbatch' : 'realtime';
  let rate = 0;
  let lastCreatedAt: number | null = null;
  let micro = { samples: 0, openedAt: null as number | null };
  let emissions = 0;
  /** Source batches handled since the last checkpoint. */
  let sinceCheckpoint = 0;
  let processed: Source | null = null;
  let checkpointed: Position | null = null;
  const routed = new Map<string, boolean>();

  /** Appends facts to one of the pipeline's output streams at its exact next revision, ids from the trigger. */
  async function appendFacts(
    stream: keyof Counters,
    source: Source,
    items: readonly { type: FactType; data: unknown }[],
  ): Promise<void> {
    if (!items.length) return;
    const first = counters[stream];
    await events.append(
      streams[stream],
      items.map((item, i) => {
        const eventId = uuidv5(`${id}:${stream}:${item.type}:${i}:${source.position}`, NAMESPACE);
        return {
          id: eventId,
          type: item.type,
          data: checkFact(item.type, item.data) as JsonValue,
          metadata: envelope({ principal, schemaVersion: factVersion(item.type), source }, eventId),
        };
      }),
      { expectedRevision: first === 0 ? 'noStream' : BigInt(first - 1) },
    );
    counters[stream] += items.length;
  }

  function batchOf(samples: readonly Sample[], seq: number): JsonValue {
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
    const position = trigger.position.toString();
    if (result.derived.length)
      await appendFacts('out', trigger, [
        { type: 'batchFlushed', data: batchOf(result.derived, counters.out) },
      ]);
    const findings: { type: FactType; data: unknown }[] = seriesFindingEvents(result, position);
    if (hasFindings(result.findings)) {
      findings.push({
        type: 'qualityIssuesFound',
        data: {
          sourcePosition: position,
          watermark: Number.isFinite(result.watermark) ? result.watermark : null,
          ...result.findings,
          gaps: result.findings.gaps.map(([seriesId, from, to]) => ({ seriesId, from, to })),
        },
      });
    }
    if (result.late.length)
      findings.push({
        type: 'lateSamplesRouted',
        data: { sourcePosition: position, batch: batchOf(result.late, counters.quality + findings.length) },
      });
    // Findings of one trigger are one append each kind, in order, as before: per-series findings, then
    // quality, then late samples (their ids and revisions depend on it).
    const perSeries = findings.filter(
      (f) => f.type !== 'qualityIssuesFound' && f.type !== 'lateSamplesRouted',
    );
    await appendFacts('quality', trigger, perSeries);
    for (const f of findings.slice(perSeries.length)) await appendFacts('quality', trigger, [f]);
    emissions++;
    if (emissions % checkpointEvery === 0) checkpointDue = true;
    if (checkpointDue && Date.now() - lastCheckpointAt >= checkpointMinIntervalMs) await checkpoint(trigger);
  }

  /**
   * The per-series records of a checkpoint: the series whose analytics changed since the last one
   * (all of them, those evicted read back from the store, when a new chain starts). Idle series are
   * marked evicted first: their state goes with this checkpoint, and leaves memory once it is written.
   */
  async function seriesRecords(): Promise<SeriesRecords | undefined> {
    const analytics = engine.seriesAnalytics;
    if (!analytics) return undefined;
    const watermark = engine.watermark;
    if (Number.isFinite(watermark) && Number.isFinite(idleMs))
      for (const slot of analytics.idleSlots(watermark - idleMs)) analytics.markEvicted(slot);
    const full = store.needsFull();
    if (!full) return { full, slots: analytics.dirtySlots(), state: (slot) => analytics.seriesState(slot) };
    const live = analytics.liveSlots();
    const stored = analytics.evictedSlots().filter((slot) => !analytics.hasEnsemble(slot));
    const states = stored.length ? await store.readSlots(stored) : new Map<number, unknown>();
    return {
      full,
      slots: [...live, ...stored.filter((slot) => states.has(slot))].sort((a, b) => a - b),
      state: (slot) => analytics.seriesState(slot) ?? states.get(slot) ?? null,
    };
  }

  async function checkpoint(source: Source): Promise<void> {
    const series = await seriesRecords();
    const data: PipelineCheckpoint = {
      sourcePosition: source.position.toString(),
      definitionHash,
      counters: { ...counters },
      mode,
      rate,
      lastCreatedAt,
      micro,
      emissions,
      engine: engine.snapshot(),
    };
    stateRevision = await store.write(data, source, stateRevision, series);
    const analytics = engine.seriesAnalytics;
    analytics?.clearDirty();
    analytics?.dropEvicted();
    checkpointed = source.position;
    sinceCheckpoint = 0;
    checkpointDue = false;
    lastCheckpointAt = Date.now();
  }

  /** Everything starts from the newest checkpoint (or from nothing): no value of a failed run survives. */
  async function restore(): Promise<Position | null> {
    const latest = await store.latest();
    const saved = latest?.checkpoint ?? null;
    routed.clear();
    engine = trackingSeries(new PipelineEngine(definition));
    store.reset();
    counters = { out: 0, quality: 0 };
    stateRevision = 0;
    mode = definition.mode === 'microbatch' ? 'microbatch' : 'realtime';
    rate = 0;
    lastCreatedAt = null;
    micro = { samples: 0, openedAt: null };
    emissions = 0;
    sinceCheckpoint = 0;
    checkpointDue = false;
    processed = null;
    checkpointed = null;
    const startAfter = options.startAfter ?? null;
    if (!saved || !latest) {
      if (startAfter === null) return null;
      // Defined after the log began: it starts, as new, after its definition. Its output streams go on
      // after what an earlier incarnation emitted (if any): what this one emitted before a crash
      // (caused after its definition) is emitted again at the same revisions, as retries.
      for (const stream of ['out', 'quality'] as const) {
        for await (const event of events.readStream(streams[stream], { direction: 'backwards' })) {
          if ((sourcePositionOf(event.metadata) ?? 0n) > startAfter) continue;
          counters[stream] = Number(event.revision) + 1;
          break;
        }
      }
      return startAfter;
    }
    // The state stream goes on after its last event (parts a crash left included).
    counters = { out: saved.counters.out, quality: saved.counters.quality };
    stateRevision = Number(latest.revision) + 1;
    let resume: Position | null = BigInt(saved.sourcePosition);
    checkpointed = resume;
    emissions = saved.emissions;
    // Defined again (after a deletion) since its checkpoint: what came before that definition is skipped.
    const skips = startAfter !== null && resume < startAfter;
    if (!skips && saved.definitionHash === definitionHash && saved.engine.format === ENGINE_SNAPSHOT_FORMAT) {
      engine = trackingSeries(new PipelineEngine(definition, saved.engine));
      const analytics = engine.seriesAnalytics;
      if (analytics && latest.series) {
        // Each series from its records, oldest first (a later one overrides an earlier one); an
        // evicted series stays in the store until it returns.
        await store.readSeries(latest.series, (slot, record) => {
          if (!analytics.isEvicted(slot)) analytics.restoreSeries(slot, record as SeriesRecord, false);
        });
      } else analytics?.markAllDirty(); // a checkpoint holding every ensemble (older layout): all written next
      mode = saved.mode;
      rate = saved.rate;
      lastCreatedAt = saved.lastCreatedAt;
      micro = { ...saved.micro };
    } else {
      // A new definition (or a checkpoint of an older layout) starts with fresh state. It must not
      // emit again for source batches the old one already emitted for (after a crash, those past the
      // checkpoint): it goes on after the last source batch any output names, at the streams' heads.
      resume = await goOnAfterOutputs(skips ? startAfter : resume);
      log.info(
        { after: resume?.toString() },
        'definition or state layout changed since the last checkpoint: starting with fresh state',
      );
    }
    return resume;
  }

  /**
   * Fresh state going on after `after` and after the last source batch any output names, each output
   * stream at its head (so nothing already emitted is emitted again, differently, at its revision).
   */
  async function goOnAfterOutputs(after: Position | null): Promise<Position | null> {
    let resume = after;
    for (const stream of ['out', 'quality'] as const) {
      for await (const last of events.readStream(streams[stream], {
        direction: 'backwards',
        maxCount: 1,
      })) {
        counters[stream] = Number(last.revision) + 1;
        const cause = sourcePositionOf(last.metadata) ?? 0n;
        if (resume === null || cause > resume) resume = cause;
      }
    }
    return resume;
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
        { principal, commandId: `mode:${event.position}`, causationId: event.id },
      )
      .catch((error: unknown) => log.warn({ err: error }, 'mode switch not recorded'));
  }

  /** Series of a batch evicted earlier get their analytics state back from the checkpoint store first. */
  async function restoreEvicted(analytics: SeriesAnalytics, slots: Int32Array): Promise<void> {
    const evicted: number[] = [];
    for (const slot of slots) if (slot >= 0 && analytics.isEvicted(slot)) evicted.push(slot);
    if (!evicted.length) return;
    const states = await store.readSlots(evicted);
    for (const slot of evicted)
      analytics.restoreSeries(slot, (states.get(slot) ?? null) as SeriesRecord | null, true);
    log.debug({ series: evicted.length }, 'evicted series restored from the checkpoint store');
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const batch = decodePayload(readFactOf(event, 'batchFlushed').data);
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
    const analytics = engine.seriesAnalytics;
    if (analytics) await restoreEvicted(analytics, slots);
    let count = 0;
    for (let i = 0; i < batch.values.length; i++) {
      const slot = slots[batch.seriesIndex[i]!]!;
      if (slot < 0) continue;
      engine.acceptAt(slot, batch.timestamps[i]!, batch.values[i]!);
      analytics?.touch(slot, batch.timestamps[i]!);
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

  let finalCheckpoint = true;
  let recordStop = true;
  const consumer = createLogConsumer({
    name: `pipeline:${id}`,
    events,
    logger: log,
    filter: { categories: ['samples'], eventTypes: ['batchFlushed'] },
    accept: (event) => event.streamId !== streams.out,
    handler: {
      load: restore,
      async handle(batch) {
        for (const event of batch) {
          await handle(event);
          processed = event;
          // A pipeline that routes little still checkpoints now and then (at a boundary the log decides),
          // so that it never holds back the scavenging of old source batches for long.
          if (++sinceCheckpoint >= CHECKPOINT_EVERY_SOURCE_BATCHES) await checkpoint(event);
        }
      },
      async close() {
        if (!finalCheckpoint) return;
        if (processed !== null && processed.position !== checkpointed) await checkpoint(processed);
        if (!recordStop) return;
        await host
          .send(
            { kind: 'pipeline', id },
            { type: 'pipelineStopped', at: now() },
            { principal: 'system:service' },
          )
          .catch((e: unknown) => log.warn({ err: e }, 'pipelineStopped not recorded'));
      },
    },
  });

  function seriesStatus(): Pick<PipelineStatus, 'series'> {
    const analytics = engine.seriesAnalytics;
    if (!analytics) return {};
    return {
      series: {
        inMemory: analytics.liveSlots().length,
        evicted: analytics.evictedSlots().length,
        evictions: analytics.counters.evictions,
        restoredOnDemand: analytics.counters.restores,
        bankRows: analytics.rowStats().total,
      },
    };
  }

  return {
    id,
    async start() {
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
      finalCheckpoint = true;
      recordStop = true;
      consumer.start();
      // Started means reading: its checkpoint (and series records) loaded, or halted trying.
      await consumer.reading();
    },

    async stop({ checkpoint: final = true, record = true } = {}) {
      finalCheckpoint = final;
      recordStop = record;
      await consumer.stop();
    },

    status() {
      const own = consumer.status();
      const watermark = engine.watermark;
      return {
        id,
        state: own.state,
        mode,
        processedPosition: own.position,
        checkpointPosition: checkpointed?.toString() ?? null,
        watermark: Number.isFinite(watermark) ? watermark : null,
        emissions,
        lastError: own.lastError,
        consumer: own,
        ...seriesStatus(),
      };
    },

    waitFor: (position) => consumer.waitFor(position),
  };
}

/** The engine with its analytics checkpointed per series (see `SeriesAnalytics.trackSeries`). */
function trackingSeries(engine: PipelineEngine): PipelineEngine {
  const analytics = engine.seriesAnalytics;
  if (analytics) analytics.trackSeries = true;
  return engine;
}
