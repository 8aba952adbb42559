import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { v5 as uuidv5 } from 'uuid';
import { factVersion, readFactOf } from '../domain/facts.js';
import type { EngineSnapshot } from '../domain/pipeline/engine.js';
import { envelope, type Source } from '../runtime/envelope.js';
import type { EventStore, JsonValue } from '../stores/event-store/port.js';

/**
 * The next revision of each output stream. (The state stream's own revision is read from that stream
 * at restore, never kept in a checkpoint: a checkpoint taken again at the same position is then byte
 * for byte the same, a retry.)
 */
export interface Counters {
  out: number;
  quality: number;
}

/** A pipeline's whole state at a source position (its engine, its streams' revisions, its mode). */
export interface PipelineCheckpoint {
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

/**
 * A checkpoint larger than this (characters of JSON) is written as parts of this size, each its own
 * append, then a `pipelineCheckpointed` marker naming how many parts precede it: a store's limit on
 * one event or one append (EventStoreDB: 1 MiB per append by default) never stops a checkpoint.
 */
export const CHECKPOINT_PART_CHARS = 512 * 1024;

/**
 * Per-series records (the analytics state of each series) are written in chunks of about this many
 * characters of JSON: a checkpoint is never one string, whatever the number of series.
 */
export const SERIES_CHUNK_CHARS = 256 * 1024;

/**
 * Where the per-series records of a checkpoint chain are: the stream is kept from `base`, and the
 * chunks of every checkpoint since the last full one are `[from, count]` revision ranges (later ones
 * override earlier ones, series by series); anything else in the stream (chunks a crash left) is not
 * read. Recorded in each marker (`series`).
 */
export interface SeriesChain {
  readonly base: number;
  readonly segments: readonly (readonly [number, number])[];
}

/** The per-series records a checkpoint writes. */
export interface SeriesRecords {
  /** Slots whose state is written (changed since the last checkpoint, or all on a full one). */
  readonly slots: readonly number[];
  /** The state of a slot (JSON), asked for once, as its chunk is made. */
  state(slot: number): unknown;
  /** A full write: the chain starts again with this checkpoint (older chunks are truncated). */
  readonly full: boolean;
}

/** A new chain is started (a full write) once a chain has this many checkpoints' chunks… */
export const MAX_SERIES_SEGMENTS = 32;

/**
 * The checkpoints of one pipeline, in `pipelinestate-<id>`: a cache of its state (never a fact anyone
 * else reads), so only the newest complete one is kept; older ones, and parts a crash left, are
 * truncated.
 */
export function createCheckpointStore(options: {
  pipelineId: string;
  events: EventStore;
  logger: Logger;
  partChars?: number;
  seriesChunkChars?: number;
}) {
  const { pipelineId, events, logger } = options;
  const streamId = `pipelinestate-${pipelineId}`;
  const partChars = options.partChars ?? CHECKPOINT_PART_CHARS;
  const principal = `actor:pipeline-${pipelineId}`;

  async function appendOne(
    revision: number,
    source: Source,
    name: string,
    type: 'pipelineCheckpointed' | 'pipelineCheckpointPart',
    data: JsonValue,
  ): Promise<number> {
    const id = uuidv5(`${pipelineId}:state:${name}:${source.position}`, NAMESPACE);
    const appended = await events.append(
      streamId,
      [
        {
          id,
          type,
          data,
          metadata: envelope({ principal, schemaVersion: factVersion(type), source }, id),
        },
      ],
      { expectedRevision: revision === 0 ? 'noStream' : BigInt(revision - 1) },
    );
    // Where it is: a retry of a part a crash left (same id) is answered where that part stands.
    return Number(appended.nextExpectedRevision);
  }

  const seriesChunkChars = options.seriesChunkChars ?? SERIES_CHUNK_CHARS;
  /** The chain of the newest checkpoint (null: none, or a checkpoint without per-series records). */
  let chain: SeriesChain | null = null;
  /** Per slot: the revision of the chunk holding its newest record (in `chain`). */
  const index = new Map<number, number>();
  /** Chunks in the chain, and how many the last full write took. */
  let chainChunks = 0;
  let fullChunks = 0;

  async function* readChunks(
    from: number,
    count: number,
  ): AsyncGenerator<{ revision: number; records: [number, unknown][] }> {
    for await (const event of events.readStream(streamId, { fromRevision: BigInt(from), maxCount: count })) {
      const part = readFactOf(event, 'pipelineCheckpointPart').data;
      const parsed = JSON.parse(part.json) as { series: [number, unknown][] };
      yield { revision: Number(event.revision), records: parsed.series };
    }
  }

  return {
    /** The newest chain read or written (null: none yet). */
    get chain(): SeriesChain | null {
      return chain;
    },

    /** Whether the next per-series write should be a full one (no chain yet, or a long one). */
    needsFull(): boolean {
      return (
        chain === null || chain.segments.length >= MAX_SERIES_SEGMENTS || chainChunks > 2 * fullChunks + 16
      );
    },

    /** Forgets the chain (fresh state: the next per-series write is a full one). */
    reset(): void {
      chain = null;
      index.clear();
      chainChunks = 0;
      fullChunks = 0;
    },

    /**
     * Reads the records of the newest checkpoint's chain (`latest().series`), oldest first, so that a
     * later record of a slot comes after an earlier one; remembers where each slot's newest record is.
     */
    async readSeries(from: SeriesChain, visit: (slot: number, state: unknown) => void): Promise<void> {
      index.clear();
      chain = from;
      chainChunks = 0;
      for (const [start, count] of from.segments) {
        chainChunks += count;
        for await (const chunk of readChunks(start, count))
          for (const [slot, state] of chunk.records) {
            index.set(slot, chunk.revision);
            visit(slot, state);
          }
      }
      fullChunks = from.segments[0]?.[1] ?? 0;
    },

    /** The newest records of these slots (read back from their chunks); a slot without one is absent. */
    async readSlots(slots: readonly number[]): Promise<Map<number, unknown>> {
      const wanted = new Map<number, Set<number>>();
      for (const slot of slots) {
        const revision = index.get(slot);
        if (revision === undefined) continue;
        let set = wanted.get(revision);
        if (!set) {
          set = new Set();
          wanted.set(revision, set);
        }
        set.add(slot);
      }
      const out = new Map<number, unknown>();
      for (const [revision, set] of wanted)
        for await (const chunk of readChunks(revision, 1))
          for (const [slot, state] of chunk.records) if (set.has(slot)) out.set(slot, state);
      return out;
    },

    /**
     * Writes a checkpoint at the stream's next revision `at`: the per-series records first (in chunks,
     * `series`), then the checkpoint (in parts when large), then its marker; returns the revision
     * after it.
     */
    async write(
      checkpoint: PipelineCheckpoint,
      source: Source,
      at: number,
      series?: SeriesRecords,
    ): Promise<number> {
      let next = at;
      let first: number | null = null;
      const put = async (
        name: string,
        type: 'pipelineCheckpointed' | 'pipelineCheckpointPart',
        data: JsonValue,
      ) => {
        const at = await appendOne(next, source, name, type, data);
        first ??= at;
        next = at + 1;
      };
      // Per-series records, in chunks. A chunk's event id carries a digest of its content: a chunk a
      // crash left is never taken for a different one written at the same position later.
      let nextChain: SeriesChain | null = null;
      const written = new Map<number, number>();
      if (series) {
        const slots = series.slots;
        const chunks: string[] = [];
        let batch: number[] = [];
        let chars = 0;
        let chunkIndex = 0;
        let segmentStart: number | null = null;
        let segmentCount = 0;
        const flush = async () => {
          if (!chunks.length) return;
          const json = `{"series":[${chunks.join(',')}]}`;
          const digest = createHash('sha1').update(json).digest('hex').slice(0, 16);
          await put(`pipelineSeries:${chunkIndex}:${digest}`, 'pipelineCheckpointPart', {
            sourcePosition: checkpoint.sourcePosition,
            index: chunkIndex,
            parts: chunkIndex + 1,
            json,
          });
          const revision = next - 1;
          segmentStart ??= revision;
          segmentCount++;
          for (const slot of batch) written.set(slot, revision);
          chunkIndex++;
          chunks.length = 0;
          batch = [];
          chars = 0;
        };
        for (const slot of slots) {
          const record = `[${slot},${JSON.stringify(series.state(slot) ?? null)}]`;
          if (chars > 0 && chars + record.length > seriesChunkChars) await flush();
          chunks.push(record);
          batch.push(slot);
          chars += record.length + 1;
        }
        await flush();
        const own: [number, number][] = segmentStart === null ? [] : [[segmentStart, segmentCount]];
        const kept = series.full || chain === null ? [] : chain.segments;
        const segments = [...kept, ...own];
        const base = series.full || chain === null ? (segments[0]?.[0] ?? at) : chain.base;
        nextChain = { base, segments };
      }
      const marker: Record<string, JsonValue> = nextChain
        ? { series: nextChain as unknown as JsonValue }
        : {};
      const json = JSON.stringify(checkpoint);
      if (json.length <= partChars) {
        await put('pipelineCheckpointed:0', 'pipelineCheckpointed', {
          ...(checkpoint as unknown as Record<string, JsonValue>),
          ...marker,
        });
      } else {
        const parts = Math.ceil(json.length / partChars);
        for (let index = 0; index < parts; index++) {
          await put(`pipelineCheckpointPart:${index}`, 'pipelineCheckpointPart', {
            sourcePosition: checkpoint.sourcePosition,
            index,
            parts,
            json: json.slice(index * partChars, (index + 1) * partChars),
          });
        }
        await put('pipelineCheckpointed:0', 'pipelineCheckpointed', {
          sourcePosition: checkpoint.sourcePosition,
          parts,
          ...marker,
        });
      }
      // Only the newest complete checkpoint is ever read: the older ones (and parts a crash left
      // behind) go, but for the chunks of its chain.
      const keepFrom = nextChain ? Math.min(nextChain.base, first ?? nextChain.base) : first;
      if (keepFrom !== null && keepFrom > 0)
        await events
          .truncateStream(streamId, BigInt(keepFrom))
          .catch((error: unknown) => logger.warn({ err: error }, 'older checkpoints not removed'));
      if (series && nextChain) {
        if (series.full) {
          index.clear();
          chainChunks = 0;
          fullChunks = nextChain.segments[0]?.[1] ?? 0;
        }
        chainChunks += nextChain.segments.at(-1)?.[1] ?? 0;
        for (const [slot, revision] of written) index.set(slot, revision);
        chain = nextChain;
      } else if (!series) chain = null;
      return next;
    },

    /**
     * The newest complete checkpoint, and the stream's last revision (parts a crash left after the
     * checkpoint included: the next checkpoint goes after them); null when there is none.
     */
    async latest(): Promise<{
      checkpoint: PipelineCheckpoint;
      revision: bigint;
      /** Where its per-series records are (absent: none, an older checkpoint holding them all). */
      series?: SeriesChain;
    } | null> {
      let last: bigint | null = null;
      for await (const event of events.readStream(streamId, { direction: 'backwards' })) {
        last ??= event.revision;
        if (event.type !== 'pipelineCheckpointed') continue; // parts of a checkpoint a crash interrupted
        const marker = readFactOf(event, 'pipelineCheckpointed').data;
        const chainOf = marker.series as SeriesChain | undefined;
        const series = chainOf ? { series: chainOf } : {};
        if (marker.parts === undefined) {
          const { series: _chain, ...checkpoint } = marker;
          return { checkpoint: checkpoint as unknown as PipelineCheckpoint, revision: last, ...series };
        }
        let json = '';
        const from = event.revision - BigInt(marker.parts);
        for await (const part of events.readStream(streamId, {
          fromRevision: from,
          maxCount: marker.parts,
        })) {
          const d = readFactOf(part, 'pipelineCheckpointPart').data;
          if (part.revision !== from + BigInt(d.index))
            throw new Error(
              `checkpoint at revision ${event.revision} of ${streamId} is missing part ${part.revision - from}`,
            );
          json += d.json;
        }
        return { checkpoint: JSON.parse(json) as PipelineCheckpoint, revision: last, ...series };
      }
      return null;
    },
  };
}
