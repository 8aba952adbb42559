import { fromB64, toB64 } from './columns.js';

/**
 * The last `size` values of a stream whose length (`count`) the owner keeps: what the detectors that
 * re-learn from recent history when their value range grows (transitions, CAD OSE) replay. Snapshots
 * are the kept values oldest first, as base64 Float64.
 */
export class RecentValues {
  private readonly ring: Float64Array;

  constructor(readonly size: number) {
    this.ring = new Float64Array(Math.max(1, size));
  }

  /** Keeps `value` as the stream's `count`-th (0-based) value. */
  push(count: number, value: number): void {
    if (this.size > 0) this.ring[count % this.size] = value;
  }

  /** The kept values before `count`, oldest first. */
  forEach(count: number, visit: (value: number) => void): void {
    for (let i = count - Math.min(count, this.size); i < count; i++) visit(this.ring[i % this.size]!);
  }

  snapshot(count: number): string {
    const kept = new Float64Array(Math.min(count, this.size));
    let k = 0;
    this.forEach(count, (v) => {
      kept[k++] = v;
    });
    return toB64(kept);
  }

  restore(count: number, text: string): void {
    const kept = new Float64Array(Math.min(count, this.size));
    const n = fromB64(text, kept);
    for (let i = 0; i < n; i++) this.ring[(count - n + i) % this.size] = kept[i]!;
  }
}
