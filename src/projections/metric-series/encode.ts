import type { SampleBatch } from '../../domain/metrics/batch.js';
import {
  bytesOf,
  encodeNativeChunks,
  type NativeColumn,
  setInt64,
  setUInt64,
} from '../../stores/clickhouse/native-format.js';

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const MAX_SAFE = 2 ** 53;
/** `scale` value meaning "stored as a double". */
export const FLOAT_SCALE = 255;

/**
 * The fewest decimals (0–6) that represent `v` exactly as an integer over a power of ten, or
 * FLOAT_SCALE. Exact means the division gives back the same double, as ClickHouse's will.
 */
export function decimalScale(v: number): number {
  for (let s = 0; s < POW10.length; s++) {
    const scaled = Math.round(v * POW10[s]!);
    if (Math.abs(scaled) >= MAX_SAFE) return FLOAT_SCALE;
    if (scaled / POW10[s]! === v) return s;
  }
  return FLOAT_SCALE;
}

export const SAMPLE_COLUMNS = ['series_id', 'ts', 'scale', 'int_value', 'float_value', 'position'] as const;

/**
 * Encodes the samples of several batches (each with its event's log position) as one Native block
 * for the `samples` table. Each series in a batch gets one scale — the most decimals any of its
 * samples needs — so that a series' integers stay on one scale and compress well.
 */
export function encodeSamples(batches: readonly { batch: SampleBatch; position: bigint }[]): {
  rows: number;
  block: Uint8Array[];
} {
  let rows = 0;
  for (const { batch } of batches) rows += batch.values.length;
  const seriesWords = new Uint32Array(rows * 2);
  const tsWords = new Uint32Array(rows * 2);
  const scales = new Uint8Array(rows);
  const intWords = new Uint32Array(rows * 2);
  const floats = new Float64Array(rows);
  const positionWords = new Uint32Array(rows * 2);
  let row = 0;
  for (const { batch, position } of batches) {
    const n = batch.values.length;
    const seriesScale = new Uint8Array(batch.series.length);
    for (let i = 0; i < n; i++) {
      const local = batch.seriesIndex[i]!;
      const current = seriesScale[local]!;
      if (current === FLOAT_SCALE) continue;
      const v = batch.values[i]!;
      // Most samples fit the scale their series already needs: check that first.
      const scaled = Math.round(v * POW10[current]!);
      if (scaled / POW10[current]! === v && Math.abs(scaled) < MAX_SAFE) continue;
      const s = decimalScale(v);
      if (s > current) seriesScale[local] = s;
    }
    // A scale raised by a later sample must still hold every earlier one exactly and below 2^53;
    // if it does not, the whole series goes as doubles.
    for (let i = 0; i < n; i++) {
      const local = batch.seriesIndex[i]!;
      const scale = seriesScale[local]!;
      if (scale === FLOAT_SCALE) continue;
      const v = batch.values[i]!;
      const scaled = Math.round(v * POW10[scale]!);
      if (Math.abs(scaled) >= MAX_SAFE || scaled / POW10[scale]! !== v) seriesScale[local] = FLOAT_SCALE;
    }
    const idWords = new Uint32Array(batch.series.length * 2);
    batch.series.forEach((def, local) => {
      setUInt64(idWords, local, BigInt(def.id));
    });
    const positionLo = Number(position & 0xffffffffn);
    const positionHi = Number(position >> 32n);
    for (let i = 0; i < n; i++, row++) {
      const local = batch.seriesIndex[i]!;
      seriesWords[2 * row] = idWords[2 * local]!;
      seriesWords[2 * row + 1] = idWords[2 * local + 1]!;
      setInt64(tsWords, row, Math.round(batch.timestamps[i]!));
      const scale = seriesScale[local]!;
      scales[row] = scale;
      if (scale === FLOAT_SCALE) floats[row] = batch.values[i]!;
      else setInt64(intWords, row, Math.round(batch.values[i]! * POW10[scale]!));
      positionWords[2 * row] = positionLo;
      positionWords[2 * row + 1] = positionHi;
    }
  }
  const columns: NativeColumn[] = [
    { name: 'series_id', type: 'UInt64', data: bytesOf(seriesWords) },
    { name: 'ts', type: "DateTime64(3, 'UTC')", data: bytesOf(tsWords) },
    { name: 'scale', type: 'UInt8', data: scales },
    { name: 'int_value', type: 'Int64', data: bytesOf(intWords) },
    { name: 'float_value', type: 'Float64', data: bytesOf(floats) },
    { name: 'position', type: 'UInt64', data: bytesOf(positionWords) },
  ];
  return { rows, block: encodeNativeChunks(rows, columns) };
}
