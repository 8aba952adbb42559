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
 * The checkpoints of one pipeline, in `pipelinestate-<id>`: a cache of its state (never a fact anyone
 * else reads), so only the newest complete one is kept; older ones, and parts a crash left, are
 * truncated.
 */
export function createCheckpointStore(options: {
  pipelineId: string;
  events: EventStore;
  logger: Logger;
  partChars?: number;
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

  return {
    /** Writes a checkpoint at the stream's next revision `at`; returns the revision after it. */
    async write(checkpoint: PipelineCheckpoint, source: Source, at: number): Promise<number> {
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
      const json = JSON.stringify(checkpoint);
      if (json.length <= partChars) {
        await put('pipelineCheckpointed:0', 'pipelineCheckpointed', checkpoint as unknown as JsonValue);
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
        });
      }
      // Only the newest complete checkpoint is ever read: the older ones (and parts a crash left behind) go.
      if (first !== null && first > 0)
        await events
          .truncateStream(streamId, BigInt(first))
          .catch((error: unknown) => logger.warn({ err: error }, 'older checkpoints not removed'));
      return next;
    },

    /**
     * The newest complete checkpoint, and the stream's last revision (parts a crash left after the
     * checkpoint included: the next checkpoint goes after them); null when there is none.
     */
    async latest(): Promise<{ checkpoint: PipelineCheckpoint; revision: bigint } | null> {
      let last: bigint | null = null;
      for await (const event of events.readStream(streamId, { direction: 'backwards' })) {
        last ??= event.revision;
        if (event.type !== 'pipelineCheckpointed') continue; // parts of a checkpoint a crash interrupted
        const marker = readFactOf(event, 'pipelineCheckpointed').data;
        if (marker.parts === undefined)
          return { checkpoint: marker as unknown as PipelineCheckpoint, revision: last };
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
        return { checkpoint: JSON.parse(json) as PipelineCheckpoint, revision: last };
      }
      return null;
    },
  };
}
