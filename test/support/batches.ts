import { randomUUID } from 'node:crypto';
import { encodeBatch, type SampleBatch } from '../../src/domain/metrics/batch.js';
import type { SeriesDef } from '../../src/domain/metrics/kinds.js';
import type { EventData, JsonValue } from '../../src/stores/event-store/port.js';

/** A batch from (series, ts, value) triples. */
export function batchOf(
  agentId: string,
  seq: number,
  samples: readonly [SeriesDef, number, number][],
): SampleBatch {
  const series: SeriesDef[] = [];
  const index = new Map<string, number>();
  const seriesIndex = new Uint32Array(samples.length);
  const timestamps = new Float64Array(samples.length);
  const values = new Float64Array(samples.length);
  samples.forEach(([def, ts, value], i) => {
    let local = index.get(def.id);
    if (local === undefined) {
      local = series.length;
      series.push(def);
      index.set(def.id, local);
    }
    seriesIndex[i] = local;
    timestamps[i] = ts;
    values[i] = value;
  });
  return { agentId, seq, series, seriesIndex, timestamps, values };
}

export function batchEvent(batch: SampleBatch): EventData {
  return { id: randomUUID(), type: 'batchFlushed', data: encodeBatch(batch) as unknown as JsonValue };
}
