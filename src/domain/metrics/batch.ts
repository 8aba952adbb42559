import { z } from 'zod';
import { UInt64Text } from '../primitives.js';
import { METRIC_KINDS, type SeriesDef } from './kinds.js';

/**
 * One flushed batch of samples in columnar form: sample i is (series[seriesIndex[i]],
 * timestamps[i] ms, values[i]). This is the payload of a `batchFlushed` event in a
 * `samples-<agent id>` stream: one event per batch, never one per sample.
 */
export interface SampleBatch {
  readonly agentId: string;
  /** The number its agent gave the batch: its intended stream revision (a batch that had to move to a later revision keeps it). */
  readonly seq: number;
  readonly series: readonly SeriesDef[];
  readonly seriesIndex: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export const BATCH_SCHEMA_VERSION = 1;

const SeriesDefSchema = z.object({
  id: UInt64Text,
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  kind: z.enum(METRIC_KINDS),
  role: z.enum(['value', 'bucket', 'sum', 'count', 'quantile']),
  family: z.string(),
  unit: z.string(),
});

/**
 * The payload, compact: series indexes as 16-bit integers when the batch has at most 65,536 series,
 * timestamps as 32-bit millisecond offsets from `tsBase` when the batch spans less than 24 days
 * (64-bit doubles otherwise), values as 64-bit doubles — 14 bytes a sample in the usual case.
 */
export const BatchPayload = z.object({
  v: z.literal(BATCH_SCHEMA_VERSION),
  agentId: z.string(),
  seq: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  series: z.array(SeriesDefSchema),
  indexWidth: z.union([z.literal(2), z.literal(4)]),
  seriesIndex: z.string(),
  tsBase: z.number(),
  tsWidth: z.union([z.literal(4), z.literal(8)]),
  timestamps: z.string(),
  values: z.string(),
});
export type BatchPayload = z.infer<typeof BatchPayload>;

type Typed = Uint16Array | Uint32Array | Int32Array | Float64Array;

// Typed arrays are written in the platform's byte order; every platform Node runs on here is
// little-endian, and decoding checks the byte lengths.
const b64 = (array: Typed) =>
  Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');

function fromB64<T extends Typed>(
  text: string,
  Type: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
  count: number,
  field: string,
): T {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength !== count * Type.BYTES_PER_ELEMENT) {
    throw new Error(`batch column ${field}: ${bytes.byteLength} bytes for ${count} samples`);
  }
  // Copy into a fresh, aligned buffer.
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Type(copy, 0, count);
}

export function encodeBatch(batch: SampleBatch): BatchPayload {
  const n = batch.values.length;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = batch.timestamps[i]!;
    if (t < low) low = t;
    if (t > high) high = t;
  }
  const tsBase = n ? low : 0;
  const narrowTs = n === 0 || (high - low < 2 ** 31 && batch.timestamps.every(Number.isInteger));
  let timestamps: Int32Array | Float64Array = batch.timestamps;
  if (narrowTs) {
    const offsets = new Int32Array(n);
    for (let i = 0; i < n; i++) offsets[i] = batch.timestamps[i]! - tsBase;
    timestamps = offsets;
  }
  const narrowIndex = batch.series.length <= 65_536;
  return {
    v: BATCH_SCHEMA_VERSION,
    agentId: batch.agentId,
    seq: batch.seq,
    count: n,
    series: batch.series.map((s) => ({ ...s, labels: { ...s.labels } })),
    indexWidth: narrowIndex ? 2 : 4,
    seriesIndex: b64(narrowIndex ? Uint16Array.from(batch.seriesIndex) : batch.seriesIndex),
    tsBase,
    tsWidth: narrowTs ? 4 : 8,
    timestamps: b64(timestamps),
    values: b64(batch.values),
  };
}

/** Decodes a payload, parsing it first (see `decodePayload` for one already parsed). */
export function decodeBatch(payload: unknown): SampleBatch {
  return decodePayload(BatchPayload.parse(payload));
}

/** The columns of a parsed payload; throws when a column's length does not match its count. */
export function decodePayload(p: BatchPayload): SampleBatch {
  const rawIndex =
    p.indexWidth === 2
      ? fromB64(p.seriesIndex, Uint16Array, p.count, 'seriesIndex')
      : fromB64(p.seriesIndex, Uint32Array, p.count, 'seriesIndex');
  const seriesIndex = rawIndex instanceof Uint32Array ? rawIndex : Uint32Array.from(rawIndex);
  for (let i = 0; i < seriesIndex.length; i++) {
    if (seriesIndex[i]! >= p.series.length)
      throw new Error(`batch sample ${i} names series ${seriesIndex[i]} of ${p.series.length}`);
  }
  let timestamps: Float64Array;
  if (p.tsWidth === 4) {
    const offsets = fromB64(p.timestamps, Int32Array, p.count, 'timestamps');
    timestamps = new Float64Array(p.count);
    for (let i = 0; i < p.count; i++) timestamps[i] = p.tsBase + offsets[i]!;
  } else {
    timestamps = fromB64(p.timestamps, Float64Array, p.count, 'timestamps');
  }
  return {
    agentId: p.agentId,
    seq: p.seq,
    series: p.series,
    seriesIndex,
    timestamps,
    values: fromB64(p.values, Float64Array, p.count, 'values'),
  };
}
