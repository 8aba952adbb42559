import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { AgentConfig, AgentEvent } from '../domain/agent/events.js';
import { ValidationError } from '../domain/errors.js';
import { encodeBatch } from '../domain/metrics/batch.js';
import { SampleBuffer } from '../domain/metrics/buffer.js';
import { CardinalityGuard } from '../domain/metrics/cardinality.js';
import { defineSeries } from '../domain/metrics/identity.js';
import {
  type Labels,
  METRIC_KINDS,
  type MetricKind,
  type SeriesDef,
  type SeriesRole,
} from '../domain/metrics/kinds.js';
import { anonymise, NO_PRIVACY_RULES, type PrivacyRules } from '../domain/metrics/privacy.js';
import {
  checkLabels,
  checkMetricName,
  checkTimestamp,
  checkValue,
  DEFAULT_SAMPLE_LIMITS,
  type Issue,
  type SampleLimits,
} from '../domain/metrics/validation.js';
import { type EventStore, type JsonValue, WrongExpectedVersionError } from '../stores/event-store/port.js';
import { Spool } from './spool.js';

export interface CollectionAgentOptions {
  readonly id: string;
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** Where batches wait while the event store is unreachable. */
  readonly spoolDir: string;
  /** A batch is flushed when it holds this many samples (default 50,000)… */
  readonly batchMaxSamples?: number;
  /** …or when its oldest sample is this old (default 1,000 ms). */
  readonly batchMaxDelayMs?: number;
  /** Samples held in memory at most; past it new samples are dropped and counted (default 1,000,000). */
  readonly bufferCapacity?: number;
  /** Appending a batch: attempts before it is spooled, and the backoff (with jitter) between them. */
  readonly retry?: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * Largest spool file (default 1 GiB). When it is full the agent stops moving batches to it; the
   * buffer then fills and new samples are refused and counted as dropped (the spooled ones are kept).
   */
  readonly spoolMaxBytes?: number;
  readonly limits?: SampleLimits;
  /** Labels dropped or hashed before a series is identified or stored (anonymisation). */
  readonly privacy?: PrivacyRules;
  /** Max age of the events in the agent's samples stream (ClickHouse keeps the series); null keeps them. */
  readonly samplesMaxAgeMs?: number | null;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface SeriesInput {
  readonly name: string;
  readonly labels?: Labels;
  readonly kind: MetricKind;
  readonly unit?: string;
  readonly role?: SeriesRole;
  readonly family?: string;
}

export interface SeriesHandle {
  readonly handle: number;
  readonly def: SeriesDef;
}

export interface SampleInput extends SeriesInput {
  readonly value: number;
  /** Milliseconds since the epoch; default now. */
  readonly timestamp?: number;
}

export interface RecordResult {
  readonly accepted: number;
  /** Samples refused at the edge, each with the field and the reason. Nothing else was lost. */
  readonly rejected: readonly (Issue & { readonly index: number })[];
  /** Valid samples refused because the buffer was full (backpressure). */
  readonly dropped: number;
}

export interface Watch {
  readonly series: SeriesHandle;
  readonly above?: number;
  readonly below?: number;
  /** Interval of the periodic samplers while the watched value is out of bounds. */
  readonly fastIntervalMs: number;
}

export type Sampler = () => void | Promise<void>;

export interface AgentHealth {
  readonly agentId: string;
  readonly state: 'idle' | 'running' | 'stopped';
  readonly delivery: 'healthy' | 'degraded';
  readonly accelerated: boolean;
  readonly bufferDepth: number;
  readonly bufferCapacity: number;
  readonly samplesRecorded: number;
  readonly samplesRejected: number;
  readonly samplesDropped: number;
  readonly batchesFlushed: number;
  readonly samplesFlushed: number;
  readonly spooledBatches: number;
  readonly spooledBytes: number;
  readonly spooledTotal: number;
  readonly lastFlushLatencyMs: number | null;
  readonly maxFlushLatencyMs: number;
  readonly samplerErrors: number;
  readonly lastError: string | null;
}

export interface CollectionAgent {
  readonly id: string;
  /** Reads where its samples stream stands, replays a spool left by an earlier process, records agentStarted. */
  start(modes?: AgentConfig['modes']): Promise<void>;
  /** A handle for fast recording; throws a ValidationError naming the bad field, or when the series limit is reached. */
  series(input: SeriesInput): SeriesHandle;
  /** Records one sample (event-driven mode). False when refused: not finite, outside the time window, or buffer full. */
  record(series: SeriesHandle, value: number, timestamp?: number): boolean;
  /**
   * Validates and records many samples, reporting each refusal. With `atomic`, the valid samples are
   * recorded only if the buffer has room for all of them; otherwise none is (all count as dropped).
   */
  recordSamples(samples: readonly SampleInput[], options?: { atomic?: boolean }): RecordResult;
  /** Periodic mode: calls the sampler every interval (faster while a watch is triggered). Returns a stop function. */
  sample(sampler: Sampler, intervalMs: number): () => void;
  /** Threshold mode: when the series crosses a bound, flush at once and sample faster until it is back. */
  watch(watch: Watch): () => void;
  /** Flushes everything buffered; resolves when it is in the log or the spool. */
  flush(): Promise<void>;
  health(): AgentHealth;
  stop(): Promise<void>;
}

/**
 * A collection agent: buffers samples in typed arrays, flushes them as one `batchFlushed` event per
 * batch to `samples-<id>` (exact expected revision = the batch's seq), retries with exponential
 * backoff and jitter, and while the event store is unreachable spools batches to a local file and
 * replays them in order when it returns. Batch event ids derive from (agent, seq), so a replay never
 * doubles a batch. Its lifecycle facts go to its `agent-<id>` actor.
 *
 * Backpressure: the buffer is bounded; when it is full, new samples are refused (`record` returns
 * false) and counted as dropped — already-buffered samples are never discarded.
 */
export function createCollectionAgent(options: CollectionAgentOptions): CollectionAgent {
  const { id, events, host, logger } = options;
  const streamId = `samples-${id}`;
  const batchMax = options.batchMaxSamples ?? 50_000;
  const maxDelay = options.batchMaxDelayMs ?? 1000;
  const capacity = options.bufferCapacity ?? 1_000_000;
  const spoolMax = options.spoolMaxBytes ?? 1024 ** 3;
  const retry = options.retry ?? { attempts: 3, baseDelayMs: 50, maxDelayMs: 5000 };
  const limits = options.limits ?? DEFAULT_SAMPLE_LIMITS;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const log = logger.child({ agent: id });
  const buffer = new SampleBuffer(capacity);
  const guard = new CardinalityGuard(limits.maxSeriesPerMetric);
  const spool = new Spool(options.spoolDir, id);
  const samplers = new Set<{ sampler: Sampler; intervalMs: number; timer: NodeJS.Timeout | null }>();
  const watches = new Set<Watch & { active: boolean }>();
  const lifecycle: AgentEvent[] = [];

  let state: AgentHealth['state'] = 'idle';
  let degraded = false;
  let degradedSince = 0;
  let degradedReason = '';
  let nextSeq = 0;
  let chain: Promise<void> = Promise.resolve();
  let flushQueued = false;
  let flushTimer: NodeJS.Timeout | null = null;
  let replayTimer: NodeJS.Timeout | null = null;
  let replayAttempt = 0;
  let accelerated = false;
  const stats = {
    recorded: 0,
    rejected: 0,
    dropped: 0,
    batches: 0,
    flushed: 0,
    spooledTotal: 0,
    lastLatency: null as number | null,
    maxLatency: 0,
    samplerErrors: 0,
    lastError: null as string | null,
  };

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const backoff = (attempt: number) =>
    Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt) * (0.5 + random() / 2);

  function recordLifecycle(event: AgentEvent): void {
    lifecycle.push(event);
    void drainLifecycle();
  }

  let lifecycleChain: Promise<void> = Promise.resolve();
  let sending = false;
  /** Sends queued lifecycle events in order; stops at the first store failure and keeps the rest. */
  function drainLifecycle(): Promise<void> {
    lifecycleChain = lifecycleChain.then(async () => {
      while (lifecycle.length && !degraded) {
        const event = lifecycle[0]!;
        sending = true;
        try {
          await host.send({ kind: 'agent', id }, event, {
            principal: `actor:agent-${id}`,
            commandId: `${event.type}:${'series' in event ? `${event.series}:` : ''}${event.type === 'deliveryDegraded' ? event.since : event.at}`,
          });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code !== 'EVENT_REJECTED' && code !== 'VALIDATION_FAILED') return; // store trouble: keep it for later
          log.warn({ err: error, event: event.type }, 'agent lifecycle event not recorded');
        } finally {
          sending = false;
        }
        const at = lifecycle.indexOf(event);
        if (at !== -1) lifecycle.splice(at, 1);
      }
    });
    return lifecycleChain;
  }

  async function lastInStream(): Promise<{ revision: bigint; id: string } | null> {
    for await (const event of events.readStream(streamId, { direction: 'backwards', maxCount: 1 })) {
      return { revision: event.revision, id: event.id };
    }
    return null;
  }

  /** Is the event at `revision` of the samples stream the one with this id? */
  async function landed(revision: number, eventId: string): Promise<boolean> {
    for await (const event of events.readStream(streamId, { fromRevision: BigInt(revision), maxCount: 1 })) {
      return event.id === eventId;
    }
    return false;
  }

  /**
   * Appends one batch at its seq, retrying with backoff and jitter. A retry reuses the batch's id, so
   * an append that landed with its reply lost is recognised. When the stream is elsewhere than the
   * seq says (its events expired, or another writer used it), the batch takes the next free seq; its
   * payload stays byte-for-byte the same (the `seq` inside it is the one it was given at creation),
   * so any later retry of it is still recognised as the same event. Returns the revision it is at.
   */
  async function appendBatch(batch: { seq: number; eventId: string; data: JsonValue }): Promise<number> {
    const { data } = batch;
    let { seq } = batch;
    for (let attempt = 0; ; attempt++) {
      try {
        const appended = await events.append(
          streamId,
          [
            {
              id: batch.eventId,
              type: 'batchFlushed',
              data,
              metadata: { principal: `actor:agent-${id}`, schemaVersion: 1, correlationId: batch.eventId },
            },
          ],
          { expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1) },
        );
        // An earlier attempt may have landed elsewhere: the store answers a retry with where it is.
        return Number(appended.nextExpectedRevision);
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          if (error.actual !== null && error.actual >= BigInt(seq) && (await landed(seq, batch.eventId)))
            return seq;
          const next = error.actual === null ? 0 : Number(error.actual) + 1;
          log.warn(
            { from: seq, to: next },
            'samples stream was not at the expected revision; renumbered the batch',
          );
          seq = next;
          continue;
        }
        if (attempt + 1 >= retry.attempts) throw error;
        await sleep(backoff(attempt));
      }
    }
  }

  function enterDegraded(error: unknown): void {
    if (!degraded) {
      degraded = true;
      degradedSince = now();
      degradedReason = error instanceof Error ? error.message : String(error);
      log.warn({ err: error }, 'event store unreachable: spooling batches to disk');
    }
    stats.lastError = error instanceof Error ? error.message : String(error);
    scheduleReplay();
  }

  function enqueue(work: () => Promise<void>): Promise<void> {
    chain = chain.then(work).catch((error: unknown) => {
      // Never let the delivery chain reject: that would stop every later flush.
      stats.lastError = error instanceof Error ? error.message : String(error);
      log.error({ err: error }, 'delivery failed');
      if (spool.size > 0) scheduleReplay();
    });
    return chain;
  }

  function scheduleReplay(): void {
    if (replayTimer || state === 'stopped') return;
    replayTimer = setTimeout(() => {
      replayTimer = null;
      void enqueue(replay);
    }, backoff(replayAttempt++));
    replayTimer.unref();
  }

  /** Replays the spool in order, one record at a time. Runs inside the delivery chain, so no flush interleaves. */
  async function replay(): Promise<void> {
    let last = -1;
    let replayed = 0;
    let firstSpooledAt: number | null = null;
    try {
      for await (const batch of spool.records()) {
        firstSpooledAt ??= batch.spooledAt;
        // Once one batch had to move, the rest follow it.
        const seq = Math.max(batch.seq, last + 1);
        last = await appendBatch({ ...batch, seq });
        replayed++;
      }
      await spool.clear();
    } catch (error) {
      stats.lastError = error instanceof Error ? error.message : String(error);
      scheduleReplay();
      return;
    }
    const batches = { length: replayed, first: firstSpooledAt };
    if (last >= 0) nextSeq = Math.max(nextSeq, last + 1);
    replayAttempt = 0;
    const wasDegraded = degraded;
    degraded = false;
    log.info({ replayed: batches.length }, 'event store reachable again: spool replayed');
    if (wasDegraded || batches.length) {
      const at = now();
      const since = wasDegraded ? degradedSince : (batches.first ?? at);
      // The outage began before anything queued during it: its fact goes first.
      lifecycle.splice(sending ? 1 : 0, 0, {
        type: 'deliveryDegraded',
        reason: (degradedReason || 'found a spool at start').slice(0, 2000),
        since,
      });
      recordLifecycle({
        type: 'deliveryRestored',
        replayedBatches: batches.length,
        degradedForMs: Math.max(0, at - since),
        at,
      });
    }
    if (buffer.length) scheduleFlush();
  }

  async function deliverOne(): Promise<void> {
    const taken = buffer.take(batchMax);
    if (taken.values.length === 0) return;
    const seq = nextSeq++;
    const started = now();
    // A fresh id per batch: the same batch retried keeps it (in memory or in the spool), a different
    // batch never shares it, so a second writer is a conflict and never mistaken for a retry.
    const batch = {
      seq,
      eventId: randomUUID(),
      data: encodeBatch({ agentId: id, seq, ...taken }) as unknown as JsonValue,
    };
    if (!degraded) {
      try {
        const landedAt = await appendBatch(batch);
        nextSeq = Math.max(nextSeq, landedAt + 1);
        stats.batches++;
        stats.flushed += taken.values.length;
        const latency = now() - started;
        stats.lastLatency = latency;
        stats.maxLatency = Math.max(stats.maxLatency, latency);
        return;
      } catch (error) {
        enterDegraded(error);
      }
    }
    await spool.append({ ...batch, spooledAt: now() });
    stats.spooledTotal++;
  }

  async function drain(): Promise<void> {
    flushQueued = false;
    while (buffer.length > 0) {
      if (degraded && spool.byteSize >= spoolMax) {
        stats.lastError = `spool full (${spool.byteSize} bytes): holding samples in memory`;
        return;
      }
      await deliverOne();
    }
  }

  function scheduleFlush(): void {
    if (flushQueued) return;
    flushQueued = true;
    void enqueue(drain);
  }

  function setSamplerTimer(entry: {
    sampler: Sampler;
    intervalMs: number;
    timer: NodeJS.Timeout | null;
  }): void {
    if (entry.timer) clearInterval(entry.timer);
    const fast = accelerated
      ? Math.min(...[...watches].filter((w) => w.active).map((w) => w.fastIntervalMs))
      : Infinity;
    const interval = Math.min(entry.intervalMs, fast);
    entry.timer = setInterval(() => {
      Promise.resolve()
        .then(entry.sampler)
        .catch((error) => {
          stats.samplerErrors++;
          stats.lastError = error instanceof Error ? error.message : String(error);
          log.warn({ err: error }, 'sampler failed');
        });
    }, interval);
    entry.timer.unref();
  }

  function checkWatches(series: SeriesHandle, value: number, timestamp: number): void {
    for (const w of watches) {
      if (w.series.handle !== series.handle) continue;
      const direction =
        w.above !== undefined && value > w.above
          ? 'above'
          : w.below !== undefined && value < w.below
            ? 'below'
            : null;
      if (direction && !w.active) {
        w.active = true;
        accelerated = true;
        for (const entry of samplers) setSamplerTimer(entry);
        scheduleFlush(); // emit immediately
        recordLifecycle({
          type: 'samplingAccelerated',
          series: w.series.def.name,
          value,
          bound: direction === 'above' ? w.above! : w.below!,
          direction,
          intervalMs: w.fastIntervalMs,
          at: Math.round(timestamp),
        });
      } else if (!direction && w.active) {
        w.active = false;
        accelerated = [...watches].some((x) => x.active);
        for (const entry of samplers) setSamplerTimer(entry);
        recordLifecycle({
          type: 'samplingRestored',
          series: w.series.def.name,
          value,
          at: Math.round(timestamp),
        });
      }
    }
  }

  const agent: CollectionAgent = {
    id,

    async start(modes = ['event']) {
      await spool.open();
      if (options.samplesMaxAgeMs !== undefined) {
        await events.setStreamMaxAge(streamId, options.samplesMaxAgeMs).catch((error: unknown) => {
          log.warn({ err: error }, 'could not set the samples stream max age');
        });
      }
      try {
        const last = await lastInStream();
        nextSeq = last ? Number(last.revision) + 1 : 0;
      } catch (error) {
        if (spool.newestSeq === null) throw error;
        enterDegraded(error);
      }
      if (spool.newestSeq !== null) {
        nextSeq = Math.max(nextSeq, spool.newestSeq + 1);
        void enqueue(replay);
      }
      state = 'running';
      flushTimer = setInterval(() => {
        if (buffer.length > 0) scheduleFlush();
      }, maxDelay);
      flushTimer.unref();
      recordLifecycle({
        type: 'agentStarted',
        config: {
          batchMaxSamples: batchMax,
          batchMaxDelayMs: maxDelay,
          bufferCapacity: capacity,
          modes: [...new Set(modes)],
        },
        at: now(),
      });
    },

    series(input) {
      const issues = [
        ...checkMetricName(input.name),
        ...checkLabels(input.labels ?? {}),
        ...(METRIC_KINDS.includes(input.kind)
          ? []
          : [{ path: 'kind', message: `must be one of ${METRIC_KINDS.join(', ')}` }]),
      ];
      if (issues.length) {
        throw new ValidationError(
          `invalid series: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
      const def = defineSeries({
        ...input,
        labels: anonymise(input.labels ?? {}, options.privacy ?? NO_PRIVACY_RULES),
      });
      if (!guard.admit(def.family, def.id)) {
        const issue = {
          path: 'labels',
          message: `metric '${def.family}' already has ${limits.maxSeriesPerMetric} series (the per-metric limit)`,
        };
        throw new ValidationError(issue.message, [issue]);
      }
      return { handle: buffer.handle(def), def };
    },

    record(series, value, timestamp) {
      const current = now();
      const ts = timestamp ?? current;
      if (
        !Number.isFinite(value) ||
        !Number.isFinite(ts) ||
        ts < current - limits.maxPastMs ||
        ts > current + limits.maxFutureMs
      ) {
        stats.rejected++;
        return false;
      }
      if (!buffer.record(series.handle, ts, value)) {
        stats.dropped++;
        return false;
      }
      stats.recorded++;
      if (watches.size) checkWatches(series, value, ts);
      if (buffer.length >= batchMax) scheduleFlush();
      return true;
    },

    recordSamples(samples, recordOptions = {}) {
      const rejected: (Issue & { index: number })[] = [];
      let accepted = 0;
      let dropped = 0;
      const at = now();
      if (recordOptions.atomic && buffer.capacity - buffer.length < samples.length) {
        stats.dropped += samples.length;
        return { accepted: 0, rejected, dropped: samples.length };
      }
      samples.forEach((sample, index) => {
        const issues = [...checkValue(sample.value), ...checkTimestamp(sample.timestamp ?? at, at, limits)];
        let handle: SeriesHandle | null = null;
        if (issues.length === 0) {
          try {
            handle = agent.series(sample);
          } catch (error) {
            if (error instanceof ValidationError) issues.push(...error.issues);
            else throw error;
          }
        }
        if (issues.length || !handle) {
          stats.rejected++;
          for (const issue of issues) rejected.push({ index, ...issue });
          return;
        }
        if (agent.record(handle, sample.value, sample.timestamp ?? at)) accepted++;
        else dropped++;
      });
      return { accepted, rejected, dropped };
    },

    sample(sampler, intervalMs) {
      if (!Number.isFinite(intervalMs) || intervalMs < 1)
        throw new Error('sampling interval must be at least 1 ms');
      const entry = { sampler, intervalMs, timer: null as NodeJS.Timeout | null };
      samplers.add(entry);
      setSamplerTimer(entry);
      return () => {
        if (entry.timer) clearInterval(entry.timer);
        samplers.delete(entry);
      };
    },

    watch(watch) {
      if (watch.above === undefined && watch.below === undefined)
        throw new Error('a watch needs a bound: above or below');
      const entry = { ...watch, active: false };
      watches.add(entry);
      return () => {
        watches.delete(entry);
      };
    },

    flush() {
      scheduleFlush();
      return chain;
    },

    health() {
      return {
        agentId: id,
        state,
        delivery: degraded ? 'degraded' : 'healthy',
        accelerated,
        bufferDepth: buffer.length,
        bufferCapacity: capacity,
        samplesRecorded: stats.recorded,
        samplesRejected: stats.rejected,
        samplesDropped: stats.dropped,
        batchesFlushed: stats.batches,
        samplesFlushed: stats.flushed,
        spooledBatches: spool.size,
        spooledBytes: spool.byteSize,
        spooledTotal: stats.spooledTotal,
        lastFlushLatencyMs: stats.lastLatency,
        maxFlushLatencyMs: stats.maxLatency,
        samplerErrors: stats.samplerErrors,
        lastError: stats.lastError,
      };
    },

    async stop() {
      if (state !== 'running') return;
      for (const entry of samplers) if (entry.timer) clearInterval(entry.timer);
      samplers.clear();
      if (flushTimer) clearInterval(flushTimer);
      await agent.flush();
      state = 'stopped';
      if (replayTimer) clearTimeout(replayTimer);
      replayTimer = null;
      if (!degraded) {
        recordLifecycle({ type: 'agentStopped', at: now() });
        await drainLifecycle();
      }
      await spool.close();
    },
  };
  return agent;
}
