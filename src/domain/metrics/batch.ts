import { z } from 'zod';
import { METRIC_KINDS, type SeriesDef } from './kinds.js';

/**
 * One flushed batch of samples in columnar form: sample i is (series[seriesIndex[i]],
 * timestamps[i] ms, values[i]). This is the payload of a `batchFlushed` event in a
 * `samples-<agent id>` stream: one event per batch, never one per sample.
 */
export interface SampleBatch {
  readonly agentId: string;
  /** The batch's number in its agent's samples stream; equals the event's stream revision. */
  readonly seq: number;
  readonly series: readonly SeriesDef[];
  readonly seriesIndex: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export const BATCH_SCHEMA_VERSION = 1;

const SeriesDefSchema = z.object({
  id: z.string().regex(/^\d{1,20}$/),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  kind: z.enum(METRIC_KINDS),
  role: z.enum(['value', 'bucket', 'sum', 'count', 'quantile']),
  family: z.string(),
  unit: z.string(),
});

const PayloadSchema = z.object({
  v: z.literal(BATCH_SCHEMA_VERSION),
  agentId: z.string(),
  seq: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  series: z.array(SeriesDefSchema),
  seriesIndex: z.string(),
  timestamps: z.string(),
  values: z.string(),
});
export type BatchPayload = z.infer<typeof PayloadSchema>;

// Typed arrays are written in the platform's byte order; every platform Node runs on here is
// little-endian, and decoding checks the byte lengths.
const b64 = (array: Uint32Array | Float64Array) =>
  Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');

function fromB64<T extends Uint32Array | Float64Array>(
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
  return {
    v: BATCH_SCHEMA_VERSION,
    agentId: batch.agentId,
    seq: batch.seq,
    count: batch.values.length,
    series: batch.series.map((s) => ({ ...s, labels: { ...s.labels } })),
    seriesIndex: b64(batch.seriesIndex),
    timestamps: b64(batch.timestamps),
    values: b64(batch.values),
  };
}

export function decodeBatch(payload: unknown): SampleBatch {
  const p = PayloadSchema.parse(payload);
  const seriesIndex = fromB64(p.seriesIndex, Uint32Array, p.count, 'seriesIndex');
  for (let i = 0; i < seriesIndex.length; i++) {
    if (seriesIndex[i]! >= p.series.length)
      throw new Error(`batch sample ${i} names series ${seriesIndex[i]} of ${p.series.length}`);
  }
  return {
    agentId: p.agentId,
    seq: p.seq,
    series: p.series,
    seriesIndex,
    timestamps: fromB64(p.timestamps, Float64Array, p.count, 'timestamps'),
    values: fromB64(p.values, Float64Array, p.count, 'values'),
  };
}
