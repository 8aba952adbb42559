import type { SeriesDef } from '../domain/metrics/kinds.js';
import type { Issue } from '../domain/metrics/validation.js';

/**
 * The samples of one push request that passed admission, as a columnar batch (series by their index
 * in the batch), with the index of each in the request and every refusal (its index, field and
 * reason). Typed arrays sized once for the request: no allocation per valid sample.
 */
export class Admitted {
  readonly rejected: (Issue & { index: number })[] = [];
  private readonly series: SeriesDef[] = [];
  private readonly local = new Map<string, number>();
  private readonly seriesIndex: Uint32Array;
  private readonly timestamps: Float64Array;
  private readonly values: Float64Array;
  private readonly indexes: Uint32Array;
  private count = 0;

  constructor(n: number) {
    this.seriesIndex = new Uint32Array(n);
    this.timestamps = new Float64Array(n);
    this.values = new Float64Array(n);
    this.indexes = new Uint32Array(n);
  }

  /** The series' index in the batch (added on its first sample). */
  slotOf(def: SeriesDef): number {
    let slot = this.local.get(def.id);
    if (slot === undefined) {
      slot = this.series.length;
      this.series.push(def);
      this.local.set(def.id, slot);
    }
    return slot;
  }

  take(slot: number, ts: number, value: number, index: number): void {
    const at = this.count++;
    this.seriesIndex[at] = slot;
    this.timestamps[at] = ts;
    this.values[at] = value;
    this.indexes[at] = index;
  }

  refuse(index: number, issues: readonly Issue[]): void {
    for (const issue of issues) this.rejected.push({ index, ...issue });
  }

  result() {
    const n = this.count;
    return {
      count: n,
      rejected: this.rejected,
      batch: {
        series: this.series,
        seriesIndex: this.seriesIndex.subarray(0, n),
        timestamps: this.timestamps.subarray(0, n),
        values: this.values.subarray(0, n),
      },
      indexes: this.indexes.subarray(0, n),
    };
  }
}
