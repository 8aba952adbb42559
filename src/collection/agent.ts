import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { AgentConfig } from '../domain/agent/events.js';
import { BackpressureError, NotDurableError, ValidationError } from '../domain/errors.js';
import { encodeBatch } from '../domain/metrics/batch.js';
import { SampleBuffer } from '../domain/metrics/buffer.js';
import { defineSeries } from '../domain/metrics/identity.js';
import {
  type Labels,
  METRIC_KINDS,
  type MetricKind,
  type SeriesDef,
  type SeriesRole,
} from '../domain/metrics/kinds.js';
import { compilePrivacy, NO_PRIVACY_RULES, type PrivacyRules } from '../domain/metrics/privacy.js';
import {
  checkLabels,
  checkMetricName,
  checkTimestamp,
  checkValue,
  DEFAULT_SAMPLE_LIMITS,
  type Issue,
  type SampleLimits,
} from '../domain/metrics/validation.js';
import { cpuGate, type TimeSlicer, timeSlicer } from '../runtime/yield.js';
import type { EventStore, JsonValue, Metadata } from '../stores/event-store/port.js';
import { Admitted } from './admitted.js';
import { createDelivery, type DeliveryHealth } from './delivery.js';
import { createIdempotency } from './idempotency.js';
import { createLifecycle } from './lifecycle.js';
import { createSampling, type Sampler, type Watch } from './sampling.js';
import { SeriesRegistry } from './series-registry.js';
import { Spool } from './spool.js';

export type { Sampler, Watch } from './sampling.js';

export interface CollectionAgentOptions {
  readonly id: string;
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  /** Where batches wait while the event store is unreachable. */
  readonly spoolDir: string;
  /** The spool subkey of DATA_ENCRYPTION_KEY: spooled records are sealed. Null or omitted: plain. */
  readonly spoolKey?: Buffer | null;
  /** A batch is flushed when it holds this many samples (default 50,000)… */
  readonly batchMaxSamples?: number;
  /** …or when its oldest sample is this old (default 1,000 ms). Push requests do not wait for it. */
  readonly batchMaxDelayMs?: number;
  /**
   * Samples held in memory at most, buffered or waiting to be made durable (default 1,000,000). Past
   * it new samples are refused (counted as dropped; a push request is refused whole): nothing held is
   * ever discarded.
   */
  readonly bufferCapacity?: number;
  /** Appending a batch: attempts before it is spooled, and the backoff (with jitter) between them. */
  readonly retry?: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * Largest spool file (default 1 GiB). When it is full the agent stops moving batches to it; they
   * wait in memory, the memory bound then refuses new samples (the spooled ones are kept).
   */
  readonly spoolMaxBytes?: number;
  /** How long a push request waits to be durable before it is answered "not yet" (default 10,000 ms). */
  readonly ackTimeoutMs?: number;
  readonly limits?: SampleLimits;
  /**
   * The series the service takes, shared by every agent (global and per-metric limits that survive
   * restarts). Default: one of its own, in memory, with `limits.maxSeriesPerMetric`.
   */
  readonly registry?: SeriesRegistry;
  /** Labels dropped or hashed before a series is identified or stored (anonymisation). */
  readonly privacy?: PrivacyRules;
  /** Max age of the events in the agent's samples stream (ClickHouse keeps the series); null keeps them. */
  readonly samplesMaxAgeMs?: number | null;
  readonly now?: () => number;
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
  /** Valid samples refused because the agent holds as many as it may (backpressure). */
  readonly dropped: number;
}

/** A push request: validated and made durable as one event before it is answered. */
export interface PushRequest {
  /** Makes a retry a no-op answered the same (`Idempotency-Key`). */
  readonly key?: string;
  /** Who sent it: recorded on its event. */
  readonly principal?: string;
  /**
   * The samples, read only when the key is new (so a retry never converts or counts anything twice).
   * Requests are prepared one at a time; a long preparation may give the event loop turns (`slicer`).
   */
  prepare(slicer: TimeSlicer): PreparedPush | Promise<PreparedPush>;
}

/**
 * Samples in columns, as an edge decodes them straight from the wire: sample i is
 * (series[seriesIndex[i]], timestamps[i] ms, values[i]), for i < count. The same input object for a
 * series that is sent again lets the agent skip its validation and hashing.
 */
export interface PushColumns {
  readonly count: number;
  readonly series: readonly SeriesInput[];
  readonly seriesIndex: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export interface PreparedPush {
  /** The samples, as objects… */
  readonly samples?: readonly SampleInput[];
  /** …or in columns (then `samples` is not read); a sample's index is its row. */
  readonly columns?: PushColumns;
  /** The answer to give (and to give again to a retry), from what was accepted. */
  respond(result: RecordResult): JsonValue;
  /** Called with the indexes of the accepted samples once they are taken. */
  accepted?(indexes: Uint32Array): void;
}

export interface PushOutcome {
  readonly response: JsonValue;
  /** True when the key was seen before: nothing new was recorded. */
  readonly duplicate: boolean;
}

export interface AgentHealth extends DeliveryHealth {
  readonly agentId: string;
  readonly state: 'idle' | 'running' | 'stopped';
  readonly accelerated: boolean;
  /** Samples held in memory: buffered, or waiting to be made durable. */
  readonly bufferDepth: number;
  readonly bufferCapacity: number;
  readonly samplesRecorded: number;
  readonly samplesRejected: number;
  readonly samplesDropped: number;
  readonly samplerErrors: number;
  /** Damaged spool records set aside at start (the file is kept; see the log). */
  readonly spoolDamagedRecords: number;
}

export interface CollectionAgent {
  readonly id: string;
  /** Reads where its samples stream stands, replays a spool left by an earlier process, records agentStarted. */
  start(modes?: AgentConfig['modes']): Promise<void>;
  /** A handle for fast recording; throws a ValidationError naming the bad field, or when the series limit is reached. */
  series(input: SeriesInput): SeriesHandle;
  /** Records one sample into the buffer (event-driven mode). False when refused: not finite, outside the time window, or memory full. */
  record(series: SeriesHandle, value: number, timestamp?: number): boolean;
  /** Validates and buffers many samples, reporting each refusal. Durable at the next `flush`. */
  recordSamples(samples: readonly SampleInput[]): RecordResult;
  /**
   * A push request (OTLP, `ingestMetrics`): its valid samples become one event, answered only once
   * that event is in the log (or fsynced to the spool). Requests arriving while an append is in flight
   * share the next one. Throws BackpressureError when the agent holds too much, NotDurableError when
   * durability did not come in time (the samples still land: retry with the same key).
   */
  push(request: PushRequest): Promise<PushOutcome>;
  /** Periodic mode: calls the sampler every interval (faster while a watch is triggered). Returns a stop function. */
  sample(sampler: Sampler, intervalMs: number): () => void;
  /** Threshold mode: when the series crosses a bound, flush at once and sample faster until it is back. */
  watch(watch: Watch): () => void;
  /**
   * The point of durability of buffered samples: resolves when everything recorded before the call is
   * in the log or the spool; rejects with NotDurableError when neither can take it now (it stays held).
   */
  flush(): Promise<void>;
  health(): AgentHealth;
  stop(): Promise<void>;
}

/** Resolved series inputs remembered (then forgotten all at once and resolved again). */
const RESOLVED_SERIES = 200_000;

/**
 * A collection agent. Sampled and SDK-recorded samples go to a bounded buffer of typed arrays, cut
 * into batches by size and time; push requests become events of their own. Both are made durable, in
 * order, by one delivery (group commit, retries, a fsynced spool while the store is unreachable) as
 * `batchFlushed` events in `samples-<id>`. Its lifecycle facts go to its `agent-<id>` actor.
 */
export function createCollectionAgent(options: CollectionAgentOptions): CollectionAgent {
  const { id, events, host, logger } = options;
  const streamId = `samples-${id}`;
  const batchMax = options.batchMaxSamples ?? 50_000;
  const maxDelay = options.batchMaxDelayMs ?? 1000;
  const capacity = options.bufferCapacity ?? 1_000_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const limits = options.limits ?? DEFAULT_SAMPLE_LIMITS;
  const now = options.now ?? Date.now;
  const log = logger.child({ agent: id });
  const buffer = new SampleBuffer(capacity);
  const registry =
    options.registry ??
    new SeriesRegistry(
      {
        maxSeries: Number.MAX_SAFE_INTEGER,
        maxSeriesPerMetric: limits.maxSeriesPerMetric,
        idleMs: Number.POSITIVE_INFINITY,
      },
      null,
    );
  const spool = new Spool(options.spoolDir, id, now, options.spoolKey ?? null);
  const lifecycle = createLifecycle({ id, host, logger: log });
  const delivery = createDelivery({
    streamId,
    events,
    spool,
    logger: log,
    retry: options.retry ?? { attempts: 3, baseDelayMs: 50, maxDelayMs: 5000 },
    spoolMaxBytes: options.spoolMaxBytes ?? 1024 ** 3,
    now,
    onDegraded: (reason, since) => lifecycle.record({ type: 'deliveryDegraded', reason, since }),
    onRestored: (replayed, since, at) =>
      lifecycle.record({
        type: 'deliveryRestored',
        replayedBatches: replayed,
        degradedForMs: Math.max(0, at - since),
        at,
      }),
  });
  const idempotency = createIdempotency({ agentId: id, streamId, events, spool });
  const stats = { recorded: 0, rejected: 0, dropped: 0, samplerErrors: 0, spoolDamaged: 0 };
  const sampling = createSampling({
    logger: log,
    record: (event) => lifecycle.record(event),
    onCrossing: () => cutBuffer(),
    onSamplerError: () => stats.samplerErrors++,
  });
  const taking = cpuGate();
  let state: AgentHealth['state'] = 'idle';
  let flushTimer: NodeJS.Timeout | null = null;
  /**
   * Series already resolved, by their input as given (labels in the order they came): a push request
   * names the same series again and again, and validating, sorting and hashing each time would cost
   * more than everything else the sample goes through.
   */
  const resolved = new Map<string, SeriesDef>();
  /** The same, by the input object, for edges that hand the same object for a series again (columns). */
  const resolvedInputs = new WeakMap<SeriesInput, SeriesDef>();
  const anonymise = compilePrivacy(options.privacy ?? NO_PRIVACY_RULES);
  const inputKey = (input: SeriesInput): string => {
    let key = `${input.name}\u0000${input.kind}\u0000${input.unit ?? ''}\u0000${input.role ?? ''}\u0000${input.family ?? ''}`;
    const labels = input.labels;
    if (labels) for (const name in labels) key += `\u0001${name}\u0002${labels[name]}`;
    return key;
  };

  const held = () => buffer.length + delivery.pendingSamples;
  const metadata = (eventId: string, principal: string, extra: Metadata = {}): Metadata => ({
    principal,
    schemaVersion: 1,
    correlationId: eventId,
    ...extra,
  });

  /**
   * A series' definition from its input: validated, anonymised, identified, and admitted under the
   * series limits (a known series is seen again). Throws a ValidationError naming the field. Inputs
   * already resolved skip straight to the admission.
   */
  function resolve(input: SeriesInput, stable = false): SeriesDef {
    let def = stable ? resolvedInputs.get(input) : undefined;
    if (def) {
      const admission = registry.admit(def.family, def.id);
      if (!admission.ok)
        throw new ValidationError(admission.reason, [{ path: 'labels', message: admission.reason }]);
      return def;
    }
    const key = inputKey(input);
    def = resolved.get(key);
    if (!def) {
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
      def = defineSeries({
        ...input,
        labels: anonymise(input.labels ?? {}),
      });
    }
    const admission = registry.admit(def.family, def.id);
    if (!admission.ok)
      throw new ValidationError(admission.reason, [{ path: 'labels', message: admission.reason }]);
    if (!resolved.has(key)) {
      if (resolved.size >= RESOLVED_SERIES) resolved.clear();
      resolved.set(key, def);
    }
    if (stable) resolvedInputs.set(input, def);
    return def;
  }

  /** Moves everything buffered into units for delivery (batches of at most `batchMax`). */
  function cutBuffer(): void {
    while (buffer.length > 0) {
      const taken = buffer.take(batchMax);
      // Handles skip the admission: their series are seen here, once a batch, so none goes idle in use.
      for (const def of taken.series) registry.touch(def.family, def.id);
      const seq = delivery.nextSeq();
      const eventId = randomUUID();
      void delivery.submit({
        eventId,
        seq,
        data: encodeBatch({ agentId: id, seq, ...taken }) as unknown as JsonValue,
        metadata: metadata(eventId, `actor:agent-${id}`),
        samples: taken.values.length,
      });
    }
  }

  /** Buffers one valid sample; false (a drop) when the agent holds as many as it may. */
  function hold(handle: number, ts: number, value: number): boolean {
    if (held() >= capacity || !buffer.record(handle, ts, value)) {
      stats.dropped++;
      return false;
    }
    stats.recorded++;
    if (sampling.watching) sampling.check(handle, value, ts);
    if (buffer.length >= batchMax) cutBuffer();
    return true;
  }

  /**
   * Validates samples into a columnar batch (series by local index), with each refusal's index, field
   * and reason. One pass, no allocation per valid sample: it is the hot path of every push request.
   */
  function admission(n: number, at: number) {
    const admitted = new Admitted(n);
    const earliest = at - limits.maxPastMs;
    const latest = at + limits.maxFutureMs;
    return {
      take(sample: SampleInput, index: number): void {
        const value = sample.value;
        // Times are whole milliseconds everywhere downstream: a fraction is rounded here, at the edge.
        const ts = Math.round(sample.timestamp ?? at);
        let def: SeriesDef | null = null;
        let issues: Issue[] | null = null;
        if (typeof value === 'number' && Number.isFinite(value) && ts >= earliest && ts <= latest) {
          try {
            def = resolve(sample);
          } catch (error) {
            if (error instanceof ValidationError) issues = [...error.issues];
            else throw error;
          }
        } else {
          issues = [...checkValue(value), ...checkTimestamp(ts, at, limits)];
        }
        if (!def) {
          stats.rejected++;
          admitted.refuse(index, issues ?? []);
          return;
        }
        admitted.take(admitted.slotOf(def), ts, value, index);
      },
      result: () => admitted.result(),
    };
  }

  /**
   * Validates samples into a columnar batch (series by local index), with each refusal's index, field
   * and reason. No allocation per valid sample: it is the hot path of every push request.
   */
  function admit(samples: readonly SampleInput[], at: number) {
    const taking = admission(samples.length, at);
    for (let index = 0; index < samples.length; index++) taking.take(samples[index]!, index);
    return taking.result();
  }

  /** The same, giving the event loop a turn now and then on a large request. */
  async function admitSliced(samples: readonly SampleInput[], at: number, slicer: TimeSlicer) {
    const taking = admission(samples.length, at);
    for (let index = 0; index < samples.length; index++) {
      if (slicer.due()) await slicer.yield();
      taking.take(samples[index]!, index);
    }
    return taking.result();
  }

  /**
   * Validates columns into a columnar batch, as `admission` does samples (the same refusals, in the
   * same order), resolving each series once, at its first valid sample.
   */
  async function admitColumns(columns: PushColumns, at: number, slicer: TimeSlicer) {
    const n = columns.count;
    const admitted = new Admitted(n);
    /** Per input series: its slot in the batch (≥ 0), -1 when refused, -2 before its first valid sample. */
    const slotOf = new Int32Array(columns.series.length).fill(-2);
    const refusals: Issue[][] = [];
    const earliest = at - limits.maxPastMs;
    const latest = at + limits.maxFutureMs;
    for (let index = 0; index < n; index++) {
      if (slicer.due()) await slicer.yield();
      const value = columns.values[index]!;
      const ts = Math.round(columns.timestamps[index]!);
      const s = columns.seriesIndex[index]!;
      if (!(Number.isFinite(value) && ts >= earliest && ts <= latest)) {
        stats.rejected++;
        admitted.refuse(index, [...checkValue(value), ...checkTimestamp(ts, at, limits)]);
        continue;
      }
      let slot = slotOf[s]!;
      if (slot === -2) {
        try {
          slot = admitted.slotOf(resolve(columns.series[s]!, true));
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          refusals[s] = [...error.issues];
          slot = -1;
        }
        slotOf[s] = slot;
      }
      if (slot === -1) {
        stats.rejected++;
        admitted.refuse(index, refusals[s]!);
        continue;
      }
      admitted.take(slot, ts, value, index);
    }
    return admitted.result();
  }

  async function takePush(request: PushRequest, key: string | undefined) {
    const slicer = timeSlicer();
    const prepared = await request.prepare(slicer);
    const { count, rejected, batch, indexes } = prepared.columns
      ? await admitColumns(prepared.columns, now(), slicer)
      : await admitSliced(prepared.samples ?? [], now(), slicer);
    if (count && held() + count > capacity) {
      stats.dropped += count;
      throw new BackpressureError(`the agent holds ${held()} samples (at most ${capacity}): retry later`);
    }
    const response = prepared.respond({ accepted: count, rejected, dropped: 0 });
    if (!count) return { response, durable: Promise.resolve() };
    const seq = delivery.nextSeq();
    const eventId = key === undefined ? randomUUID() : idempotency.eventIdOf(key);
    const principal = request.principal ?? `actor:agent-${id}`;
    const durable = delivery.submit({
      eventId,
      seq,
      data: encodeBatch({ agentId: id, seq, ...batch }) as unknown as JsonValue,
      metadata: metadata(eventId, principal, key === undefined ? {} : { idempotency: { key, response } }),
      samples: count,
    });
    stats.recorded += count;
    prepared.accepted?.(indexes);
    return { response, durable };
  }

  const agent: CollectionAgent = {
    id,

    async start(modes = ['event']) {
      const report = await spool.open();
      if (report.damagedRecords > 0) {
        stats.spoolDamaged = report.damagedRecords;
        log.error(
          { ...report },
          `damaged spool records set aside: ${report.damagedRecords} record(s), ${report.damagedBytes} bytes; the intact ones (${report.batches}) are replayed; the damaged file is kept at ${report.quarantinedTo}`,
        );
      } else if (report.tornBytes > 0) {
        log.warn(
          { ...report },
          'cut a torn last spool record (a crash mid-append; it was never acknowledged)',
        );
      }
      if (options.samplesMaxAgeMs !== undefined) {
        await events.setStreamMaxAge(streamId, options.samplesMaxAgeMs).catch((error: unknown) => {
          log.warn({ err: error }, 'could not set the samples stream max age');
        });
      }
      await delivery.start();
      state = 'running';
      flushTimer = setInterval(() => cutBuffer(), maxDelay);
      flushTimer.unref();
      lifecycle.record({
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
      const def = resolve(input);
      return { handle: buffer.handle(def), def };
    },

    record(series, value, timestamp) {
      const current = now();
      const ts = Math.round(timestamp ?? current);
      if (
        !Number.isFinite(value) ||
        !Number.isFinite(ts) ||
        ts < current - limits.maxPastMs ||
        ts > current + limits.maxFutureMs
      ) {
        stats.rejected++;
        return false;
      }
      return hold(series.handle, ts, value);
    },

    recordSamples(samples) {
      const { count, rejected, batch } = admit(samples, now());
      const handles = batch.series.map((def) => ({ handle: buffer.handle(def), def }));
      let accepted = 0;
      let dropped = 0;
      for (let i = 0; i < count; i++) {
        // Already validated by the admission: straight into the buffer.
        if (hold(handles[batch.seriesIndex[i]!]!.handle, batch.timestamps[i]!, batch.values[i]!)) accepted++;
        else dropped++;
      }
      return { accepted, rejected, dropped };
    },

    async push(request) {
      if (state !== 'running') throw new NotDurableError(`agent ${id} is ${state}`);
      const key = request.key;
      // One request is taken at a time (its conversion and admission, in slices), then waits for
      // durability apart: conversions never interleave, and the event loop gets a turn between them.
      // Appends wait while requests are being taken, so that those taken one after another share one
      // append (group commit); the last one taken lets the append go.
      const release = delivery.hold();
      let taken: Awaited<ReturnType<typeof takePush>> & { duplicate: boolean };
      try {
        taken = await taking(async () =>
          key === undefined
            ? { ...(await takePush(request, undefined)), duplicate: false }
            : await idempotency.once(key, () => takePush(request, key)),
        );
      } finally {
        release();
      }
      await delivery.wait(taken.durable, ackTimeoutMs);
      return { response: taken.response, duplicate: taken.duplicate };
    },

    sample: (sampler, intervalMs) => sampling.add(sampler, intervalMs),
    watch: (watch) => sampling.watch(watch),

    async flush() {
      cutBuffer();
      await delivery.wait(delivery.idle());
    },

    health() {
      const delivered = delivery.health();
      return {
        agentId: id,
        state,
        accelerated: sampling.accelerated,
        ...delivered,
        bufferDepth: buffer.length + delivered.pendingSamples,
        bufferCapacity: capacity,
        samplesRecorded: stats.recorded,
        samplesRejected: stats.rejected,
        samplesDropped: stats.dropped,
        samplerErrors: stats.samplerErrors,
        spoolDamagedRecords: stats.spoolDamaged,
      };
    },

    async stop() {
      if (state !== 'running') return;
      sampling.stop();
      if (flushTimer) clearInterval(flushTimer);
      cutBuffer();
      await delivery.wait(delivery.idle(), ackTimeoutMs).catch((error: unknown) => {
        log.error(
          { err: error, samples: delivery.health().pendingSamples },
          'stopping with samples that could not be made durable',
        );
      });
      state = 'stopped';
      const lost = await delivery.stop();
      if (lost > 0) log.error({ samples: lost }, 'samples not made durable before the stop are lost');
      if (!delivery.degraded) {
        lifecycle.record({ type: 'agentStopped', at: now() });
        await lifecycle.flush();
      }
      await spool.close();
    },
  };
  return agent;
}
