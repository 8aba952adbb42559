import type { SeriesDef } from './kinds.js';

/**
 * The agent's in-memory buffer: samples in growable typed arrays, series by dense index. O(1) per
 * sample and no allocation per sample. Bounded: past `capacity` samples `record` refuses (the agent
 * counts the refusal as a drop; see the agent's backpressure policy).
 */
export class SampleBuffer {
  private readonly defs: SeriesDef[] = [];
  private readonly indexById = new Map<string, number>();
  private seriesIndex: Uint32Array;
  private timestamps: Float64Array;
  private values: Float64Array;
  private size = 0;

  constructor(
    readonly capacity: number,
    initial = Math.min(capacity, 4096),
  ) {
    this.seriesIndex = new Uint32Array(initial);
    this.timestamps = new Float64Array(initial);
    this.values = new Float64Array(initial);
  }

  /** The dense handle of a series, registering it on first use. */
  handle(def: SeriesDef): number {
    const known = this.indexById.get(def.id);
    if (known !== undefined) return known;
    const handle = this.defs.length;
    this.defs.push(def);
    this.indexById.set(def.id, handle);
    return handle;
  }

  def(handle: number): SeriesDef {
    const def = this.defs[handle];
    if (!def) throw new Error(`unknown series handle ${handle}`);
    return def;
  }

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  record(handle: number, timestamp: number, value: number): boolean {
    if (this.size >= this.capacity) return false;
    if (this.size === this.values.length) this.grow();
    this.seriesIndex[this.size] = handle;
    this.timestamps[this.size] = timestamp;
    this.values[this.size] = value;
    this.size++;
    return true;
  }

  /**
   * Takes up to `max` of the oldest samples out of the buffer, with the definitions of the series they
   * use (re-indexed densely for the batch).
   */
  take(max = this.size): {
    series: SeriesDef[];
    seriesIndex: Uint32Array;
    timestamps: Float64Array;
    values: Float64Array;
  } {
    const n = Math.min(max, this.size);
    const remap = new Int32Array(this.defs.length).fill(-1);
    const series: SeriesDef[] = [];
    const seriesIndex = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const h = this.seriesIndex[i]!;
      let local = remap[h]!;
      if (local === -1) {
        local = series.length;
        remap[h] = local;
        series.push(this.defs[h]!);
      }
      seriesIndex[i] = local;
    }
    const timestamps = this.timestamps.slice(0, n);
    const values = this.values.slice(0, n);
    // Keep the rest, in order.
    this.seriesIndex.copyWithin(0, n, this.size);
    this.timestamps.copyWithin(0, n, this.size);
    this.values.copyWithin(0, n, this.size);
    this.size -= n;
    return { series, seriesIndex, timestamps, values };
  }

  private grow(): void {
    const next = Math.min(this.capacity, Math.max(16, this.values.length * 2));
    const seriesIndex = new Uint32Array(next);
    seriesIndex.set(this.seriesIndex);
    const timestamps = new Float64Array(next);
    timestamps.set(this.timestamps);
    const values = new Float64Array(next);
    values.set(this.values);
    this.seriesIndex = seriesIndex;
    this.timestamps = timestamps;
    this.values = values;
  }
}
