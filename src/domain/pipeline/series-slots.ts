import { grown } from '../analytics/columns.js';
import type { SeriesDef } from '../metrics/kinds.js';

/** A slot's samples waiting for the watermark, in timestamp order, at [head, end) of two typed arrays. */
class Pending {
  ts = new Float64Array(2);
  values = new Float64Array(2);
  head = 0;
  end = 0;

  /** Room for one more at `end` (moving the waiting samples to the front, or doubling). */
  private room(): void {
    if (this.end < this.ts.length) return;
    if (this.head > 0) {
      this.ts.copyWithin(0, this.head, this.end);
      this.values.copyWithin(0, this.head, this.end);
      this.end -= this.head;
      this.head = 0;
      return;
    }
    const ts = new Float64Array(this.ts.length * 2);
    const values = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    values.set(this.values);
    this.ts = ts;
    this.values = values;
  }

  push(t: number, v: number): void {
    this.room();
    this.ts[this.end] = t;
    this.values[this.end] = v;
    this.end++;
  }

  /** Inserts in timestamp order (`t` is not waiting yet). */
  insert(t: number, v: number): void {
    this.room();
    let at = this.head;
    while (at < this.end && this.ts[at]! <= t) at++;
    this.ts.copyWithin(at + 1, at, this.end);
    this.values.copyWithin(at + 1, at, this.end);
    this.ts[at] = t;
    this.values[at] = v;
    this.end++;
  }

  includes(t: number): boolean {
    for (let i = this.head; i < this.end; i++) if (this.ts[i] === t) return true;
    return false;
  }
}

export interface SeriesSlotSnapshot {
  readonly def: SeriesDef;
  /** JSON turns -Infinity ("nothing yet") into null. */
  readonly released: number | null;
  readonly newest: number | null;
  readonly pending: [number, number][];
}

/** Released samples as columns, in (time, series id) order. */
export interface Released {
  slots: Int32Array;
  ts: Float64Array;
  values: Float64Array;
  length: number;
}

export type AcceptOutcome = 'accepted' | 'outOfOrder' | 'duplicate' | 'late';

/**
 * The series a pipeline has seen, each in a dense slot (0, 1, 2, … in order of first sight, so the
 * numbering is the same on every replay), with their reorder buffers: a sample waits until the
 * watermark passes it, so samples up to the allowed lateness out of order are put back in order.
 */
export class SeriesSlots {
  readonly defs: SeriesDef[] = [];
  private readonly slotById = new Map<string, number>();
  private released = new Float64Array(0);
  private newest = new Float64Array(0);
  private readonly pending: Pending[] = [];
  /** Slots with pending samples (listed once: `isDirty`). */
  private dirty = new Int32Array(0);
  private dirtyCount = 0;
  private isDirty = new Uint8Array(0);
  /** Each slot's rank by series id (the tie-break of the release order); stale when `rankedSlots` < slots. */
  private rank = new Int32Array(0);
  private byRank = new Int32Array(0);
  private rankedSlots = 0;
  private readonly out: Released = {
    slots: new Int32Array(0),
    ts: new Float64Array(0),
    values: new Float64Array(0),
    length: 0,
  };
  private order = new Int32Array(0);
  private scratch = { slots: new Int32Array(0), ts: new Float64Array(0), values: new Float64Array(0) };

  constructor(saved?: readonly SeriesSlotSnapshot[]) {
    const num = (v: number | null) => (v === null ? Number.NEGATIVE_INFINITY : v);
    for (const entry of saved ?? []) {
      const slot = this.slotOf(entry.def);
      this.released[slot] = num(entry.released);
      this.newest[slot] = num(entry.newest);
      const p = this.pending[slot]!;
      for (const [t, v] of entry.pending) p.push(t, v);
      if (entry.pending.length) this.markDirty(slot);
    }
  }

  get size(): number {
    return this.defs.length;
  }

  /** The slot of a series, given one on first sight. */
  slotOf(def: SeriesDef): number {
    let slot = this.slotById.get(def.id);
    if (slot !== undefined) return slot;
    slot = this.defs.length;
    this.defs.push(def);
    this.slotById.set(def.id, slot);
    const n = slot + 1;
    this.released = grown(this.released, n, Float64Array);
    this.newest = grown(this.newest, n, Float64Array);
    this.isDirty = grown(this.isDirty, n, Uint8Array);
    this.dirty = grown(this.dirty, n, Int32Array);
    this.released[slot] = Number.NEGATIVE_INFINITY;
    this.newest[slot] = Number.NEGATIVE_INFINITY;
    this.pending.push(new Pending());
    return slot;
  }

  /**
   * Puts a sample in its slot's reorder buffer unless it is a duplicate or late: older than what its
   * series already released, or more than `lateness` behind its series' newest sample. Lateness is
   * judged against the series' own clock, so a slow series interleaved with a fast one is never late
   * for being behind the fast one.
   */
  accept(slot: number, ts: number, value: number, lateness: number): AcceptOutcome {
    const p = this.pending[slot]!;
    const newest = this.newest[slot]!;
    const released = this.released[slot]!;
    // Every waiting sample is at or before `newest`, so a newer one cannot duplicate any of them.
    if (ts === released || (ts <= newest && p.includes(ts))) return 'duplicate';
    if (ts < released || ts < newest - lateness) return 'late';
    this.markDirty(slot);
    if (ts < newest) {
      p.insert(ts, value);
      return 'outOfOrder';
    }
    p.push(ts, value);
    this.newest[slot] = ts;
    return 'accepted';
  }

  private markDirty(slot: number): void {
    if (this.isDirty[slot]) return;
    this.isDirty[slot] = 1;
    this.dirty[this.dirtyCount++] = slot;
  }

  private ensureRanks(): void {
    const n = this.defs.length;
    if (this.rankedSlots === n) return;
    const ids = this.defs.map((d) => d.id);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0,
    );
    this.rank = grown(this.rank, n, Int32Array);
    this.byRank = grown(this.byRank, n, Int32Array);
    for (const [r, slot] of order.entries()) {
      this.rank[slot] = r;
      this.byRank[r] = slot;
    }
    this.rankedSlots = n;
  }

  /**
   * Releases every waiting sample at or before its series' watermark — the later of the pipeline's
   * (`watermark`) and the series' own (its newest sample − `lateness(slot)`); a series allowed more
   * lateness than the pipeline (`baseLateness`) waits for its own alone — in (time, series id) order;
   * calls `gap` (in slot order) for each series silent for more than twice `expectedIntervalMs`. The
   * columns it returns are reused by the next call.
   */
  release(
    watermark: number,
    lateness: (slot: number) => number,
    baseLateness: number,
    expectedIntervalMs: number | undefined,
    gap: (slot: number, from: number, to: number) => void,
  ): Released {
    this.ensureRanks();
    const rank = this.rank;
    const gaps: [number, number, number][] = [];
    // Gather slot by slot in id order: with one sample a slot (the usual case) that is already the
    // release order, which the sort below then only confirms.
    const slots = this.dirtySlotsByRank();
    const until = new Float64Array(slots.length);
    let total = 0;
    for (const [k, slot] of slots.entries()) {
      const p = this.pending[slot]!;
      const allowed = lateness(slot);
      const own = this.newest[slot]! - allowed;
      const limit = allowed > baseLateness || own > watermark ? own : watermark;
      until[k] = limit;
      let end = p.head;
      while (end < p.end && p.ts[end]! <= limit) end++;
      total += end - p.head;
    }
    const s = this.scratch;
    s.slots = grown(s.slots, total, Int32Array);
    s.ts = grown(s.ts, total, Float64Array);
    s.values = grown(s.values, total, Float64Array);
    let n = 0;
    let remaining = 0;
    for (const [k, slot] of slots.entries()) {
      const p = this.pending[slot]!;
      const limit = until[k]!;
      let prev = this.released[slot]!;
      let i = p.head;
      for (; i < p.end && p.ts[i]! <= limit; i++) {
        const t = p.ts[i]!;
        if (expectedIntervalMs !== undefined && Number.isFinite(prev) && t - prev > 2 * expectedIntervalMs)
          gaps.push([slot, prev, t]);
        prev = t;
        s.slots[n] = slot;
        s.ts[n] = t;
        s.values[n] = p.values[i]!;
        n++;
      }
      this.released[slot] = prev;
      if (i === p.end) {
        p.head = 0;
        p.end = 0;
        this.isDirty[slot] = 0;
      } else {
        p.head = i;
        this.dirty[remaining++] = slot;
      }
    }
    this.dirtyCount = remaining;
    gaps.sort((a, b) => a[0] - b[0]);
    for (const [slot, from, to] of gaps) gap(slot, from, to);
    // Order by time, ties by series id.
    this.order = grown(this.order, n, Int32Array);
    const order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    const ts = s.ts;
    const ss = s.slots;
    // Skip the sort when the gathered order is already the release order (one sample a series).
    let sorted = true;
    for (let i = 1; i < n && sorted; i++)
      sorted = ts[i - 1]! < ts[i]! || (ts[i - 1] === ts[i] && rank[ss[i - 1]!]! < rank[ss[i]!]!);
    if (!sorted) order.sort((a, b) => ts[a]! - ts[b]! || rank[ss[a]!]! - rank[ss[b]!]!);
    const out = this.out;
    out.slots = grown(out.slots, n, Int32Array);
    out.ts = grown(out.ts, n, Float64Array);
    out.values = grown(out.values, n, Float64Array);
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      out.slots[i] = ss[k]!;
      out.ts[i] = ts[k]!;
      out.values[i] = s.values[k]!;
    }
    out.length = n;
    return out;
  }

  /** The dirty slots in series id order (sorting the few, or walking every slot in id order when many are dirty). */
  private dirtySlotsByRank(): Int32Array {
    const count = this.dirtyCount;
    const n = this.defs.length;
    if (count * 8 < n) {
      const rank = this.rank;
      return this.dirty.slice(0, count).sort((a, b) => rank[a]! - rank[b]!);
    }
    const out = new Int32Array(count);
    let k = 0;
    for (let r = 0; r < n && k < count; r++) {
      const slot = this.byRank[r]!;
      if (this.isDirty[slot]) out[k++] = slot;
    }
    return out;
  }

  snapshot(): SeriesSlotSnapshot[] {
    return this.defs.map((def, slot) => {
      const p = this.pending[slot]!;
      const pending: [number, number][] = [];
      for (let i = p.head; i < p.end; i++) pending.push([p.ts[i]!, p.values[i]!]);
      return { def, released: this.released[slot]!, newest: this.newest[slot]!, pending };
    });
  }
}
