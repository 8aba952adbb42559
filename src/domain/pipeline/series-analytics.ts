import { b64Length, fromB64, grown, toB64 } from '../analytics/columns.js';
import { createEnsemble } from '../analytics/ensemble.js';
import { createTemplateBank, type TemplateBankSnapshot, type TemplateSpec } from '../analytics/patterns.js';
import {
  createPeriodicityBank,
  type PeriodicityBankSnapshot,
  type PeriodicityOptions,
  type PeriodicitySink,
} from '../analytics/periodicity.js';
import {
  createTrendBank,
  type TrendBankSnapshot,
  type TrendState,
  type TrendTrackerOptions,
} from '../analytics/trend.js';
import {
  createWindowBank,
  type WindowBankSnapshot,
  type WindowSpec,
  type WindowStats,
} from '../analytics/windows.js';

type Ensemble = ReturnType<typeof createEnsemble>;
export type EnsembleSnapshot = ReturnType<Ensemble['snapshot']>;

export interface AnalyticsConfig {
  readonly minAnomalyScore: number;
  readonly trends: TrendTrackerOptions;
  readonly patterns: readonly TemplateSpec[];
  readonly windows: readonly WindowSpec[];
  /** Seasonality, frequencies and recurring anomalies, over the named window; absent: off. */
  readonly periodicity?: PeriodicityOptions & { readonly window: string };
}

/** An anomaly's context: every window's statistics before the sample, and the one it departs from most. */
export interface WindowContext {
  readonly windows: WindowStats[];
  /** Index in `windows`. */
  readonly window: number;
}

/** What one batch found, by slot and time; `PipelineEngine` turns these into findings with series. */
export interface AnalyticsSink extends PeriodicitySink {
  anomaly(
    slot: number,
    ts: number,
    value: number,
    score: number,
    detector: string,
    expectedLow: number,
    expectedHigh: number,
    context: WindowContext,
  ): void;
  trend(slot: number, ts: number, state: TrendState): void;
  pattern(slot: number, ts: number, pattern: string, distance: number): void;
}

/**
 * One series' analytics state, for per-series checkpoints: its ensemble (null when it has none in
 * memory) and its slot of each bank (trends, shapes, windows, periodicity).
 */
export interface SeriesRecord {
  readonly e: EnsembleSnapshot | null;
  readonly t: TrendBankSnapshot;
  readonly p: TemplateBankSnapshot;
  readonly w: WindowBankSnapshot;
  readonly q?: PeriodicityBankSnapshot;
}

export interface SeriesAnalyticsSnapshot {
  /**
   * The ensemble of each slot, null for a slot never analysed; empty when the ensembles are kept
   * per series outside the snapshot (`external`).
   */
  readonly ensembles: (EnsembleSnapshot | null)[];
  /**
   * Present when the series are checkpointed one by one (`SeriesAnalytics.trackSeries`): which
   * slots were evicted (base64 Uint8, 1 a slot) and when each was last seen (base64 Float64, sample
   * time). The ensembles and banks are then empty here: each series is restored on its own from its
   * `SeriesRecord` (`restoreSeries`).
   */
  readonly external?: { readonly evicted: string; readonly lastSeen: string };
  /**
   * The bank row of each slot (base64 Int32, -1 for none) in a whole snapshot; absent in snapshots
   * of the older layout, where a slot's row is the slot itself.
   */
  readonly rows?: string;
  readonly trends: TrendBankSnapshot;
  readonly patterns: TemplateBankSnapshot;
  readonly windows: WindowBankSnapshot;
  readonly periodicity?: PeriodicityBankSnapshot;
}

/**
 * Per-series analytics over dense series slots: the detector ensemble (one per slot, created when
 * the slot is first analysed), trends, stored shapes and sliding windows. The banks (trends, shapes,
 * windows, periodicity) keep their state in typed-array rows; a slot holds a row only while its
 * series is in memory, and an evicted series' row goes to the next new or returning series, so memory
 * follows the series in memory, not every series ever seen. Pure: the same samples in the same order
 * give the same findings, and a snapshot continues exactly.
 */
export class SeriesAnalytics {
  private readonly ensembles: (Ensemble | null)[] = [];
  /**
   * Per-series checkpoints (set by the pipeline runtime): `snapshot` leaves the ensembles out (the
   * runtime writes the changed ones per series, `dirtySlots` / `seriesState`), and idle series can be
   * evicted (`markEvicted`, `dropEvicted`) and restored on demand (`restoreSeries`).
   */
  trackSeries = false;
  /** Per slot: the ensemble changed since the last per-series checkpoint. */
  private dirty = new Uint8Array(0);
  /** Per slot: evicted (its state is in the checkpoint store, not in memory). */
  private evicted = new Uint8Array(0);
  /** Per slot: the newest sample time seen (analysed, or announced by `touch`). */
  private lastSeen = new Float64Array(0);
  /** Per slot: its row in the banks, -1 while it has none (never analysed, or evicted). */
  private rowOf = new Int32Array(0);
  /** Per row: the slot it holds, -1 while free. */
  private slotOfRow = new Int32Array(0);
  /** Rows given up by evicted series, reused before new ones. */
  private readonly freeRows: number[] = [];
  /** Rows handed out so far (the banks' size). */
  private rowCount = 0;
  /** A row's state as a fresh series starts it (to reset a reused row), made on first need. */
  private blank: Omit<SeriesRecord, 'e'> | null = null;
  /** The bank row of each sample of the batch in hand (reused, grown). */
  private batchRows = new Int32Array(1024);
  /** The caller's sink with periodicity's rows turned back into slots. */
  private readonly periodicSink: PeriodicitySink;
  private sink: AnalyticsSink | null = null;
  /** Series evicted so far, restored on demand, and analysed while evicted (fresh: a bug if ever > 0). */
  readonly counters = { evictions: 0, restores: 0, lostOnEviction: 0 };
  private readonly trends;
  private readonly patterns;
  private readonly windows;
  private readonly periodicity;
  /** The window periodicity is analysed over (an index into the windows). */
  private readonly periodicWindow: number;
  /** The ensemble's output for the sample in hand (score, sigmas, expected low, high). */
  private readonly detection = new Float64Array(4);
  /** The ensemble's scores of the batch in hand (reused, grown). */
  private scores = new Float64Array(1024);
  /** Anomalies of the batch in hand, by sample index (reused). */
  private readonly found: {
    index: number;
    score: number;
    detector: string;
    expectedLow: number;
    expectedHigh: number;
  }[] = [];

  constructor(
    private readonly config: AnalyticsConfig,
    snapshot?: SeriesAnalyticsSnapshot,
  ) {
    this.trends = createTrendBank(config.trends);
    this.patterns = createTemplateBank(config.patterns);
    this.windows = createWindowBank(config.windows);
    this.periodicity = config.periodicity ? createPeriodicityBank(config.periodicity) : null;
    this.periodicWindow = Math.max(
      0,
      config.windows.findIndex((w) => w.name === config.periodicity?.window),
    );
    this.periodicSink = {
      seasonalityDetected: (row, ts, season, periodMs, previous) =>
        this.sink?.seasonalityDetected(this.slotOfRow[row]!, ts, season, periodMs, previous),
      seasonalityLost: (row, ts, previous) => this.sink?.seasonalityLost(this.slotOfRow[row]!, ts, previous),
      frequenciesChanged: (row, ts, frequencies) =>
        this.sink?.frequenciesChanged(this.slotOfRow[row]!, ts, frequencies),
      recurringAnomalyDetected: (row, ts, recurrence) =>
        this.sink?.recurringAnomalyDetected(this.slotOfRow[row]!, ts, recurrence),
    };
    if (!snapshot) return;
    if (snapshot.external) {
      this.trackSeries = true;
      const evicted = Buffer.from(snapshot.external.evicted, 'base64');
      const seen = Buffer.from(snapshot.external.lastSeen, 'base64');
      this.ensureSlots(Math.max(evicted.length, seen.length / 8));
      this.evicted.set(evicted);
      fromB64(snapshot.external.lastSeen, this.lastSeen);
      for (let slot = 0; slot < evicted.length; slot++) if (evicted[slot]) this.ensembles[slot] = null;
    }
    for (const [slot, saved] of snapshot.ensembles.entries()) {
      if (!saved) continue;
      const ensemble = createEnsemble();
      ensemble.restore(saved);
      this.ensembles[slot] = ensemble;
    }
    this.trends.restore(snapshot.trends);
    this.patterns.restore(snapshot.patterns);
    this.windows.restore(snapshot.windows);
    if (snapshot.periodicity) this.periodicity?.restore(snapshot.periodicity);
    this.restoreRows(snapshot);
  }

  /** The slot-to-row map of a whole snapshot (the older layout: each slot in its own row). */
  private restoreRows(snapshot: SeriesAnalyticsSnapshot): void {
    let held = Math.max(snapshot.trends.slots, snapshot.windows.slots, snapshot.patterns.slots);
    let rows: Int32Array;
    if (snapshot.rows) {
      rows = new Int32Array(b64Length(snapshot.rows, 4));
      fromB64(snapshot.rows, rows);
      for (const row of rows) held = Math.max(held, row + 1);
    } else rows = Int32Array.from({ length: held }, (_, row) => row);
    this.ensureSlots(Math.max(rows.length, this.ensembles.length));
    this.slotOfRow = new Int32Array(held).fill(-1);
    for (let slot = 0; slot < rows.length; slot++) {
      const row = rows[slot]!;
      this.rowOf[slot] = row;
      if (row >= 0) this.slotOfRow[row] = slot;
    }
    this.rowCount = held;
    for (let row = 0; row < held; row++) if (this.slotOfRow[row] === -1) this.freeRows.push(row);
  }

  /** The slot's row in the banks, handing one out (a reused one reset to a fresh series' state). */
  private rowFor(slot: number): number {
    const held = this.rowOf[slot]!;
    if (held >= 0) return held;
    let row = this.freeRows.pop();
    if (row === undefined) {
      row = this.rowCount++;
      if (this.slotOfRow.length < this.rowCount) {
        const before = this.slotOfRow.length;
        this.slotOfRow = grown(this.slotOfRow, this.rowCount, Int32Array);
        this.slotOfRow.fill(-1, before);
      }
    } else this.restoreBanks(row, this.blankRow());
    this.rowOf[slot] = row;
    this.slotOfRow[row] = slot;
    return row;
  }

  private blankRow(): Omit<SeriesRecord, 'e'> {
    if (!this.blank) {
      const fresh = new SeriesAnalytics(this.config);
      this.blank = {
        t: fresh.trends.snapshot(0, 1),
        p: fresh.patterns.snapshot(0, 1),
        w: fresh.windows.snapshot(0, 1),
        ...(fresh.periodicity ? { q: fresh.periodicity.snapshot(0, 1) } : {}),
      };
    }
    return this.blank;
  }

  private restoreBanks(row: number, record: Omit<SeriesRecord, 'e'>): void {
    this.trends.restore(record.t, row);
    this.patterns.restore(record.p, row);
    this.windows.restore(record.w, row);
    if (record.q) this.periodicity?.restore(record.q, row);
  }

  /** Gives up the slot's row (its series left memory). */
  private releaseRow(slot: number): void {
    const row = this.rowOf[slot]!;
    if (row < 0) return;
    this.rowOf[slot] = -1;
    this.slotOfRow[row] = -1;
    this.freeRows.push(row);
  }

  /** Bank rows held by series in memory, and rows in all (held and free). */
  rowStats(): { held: number; total: number } {
    return { held: this.rowCount - this.freeRows.length, total: this.rowCount };
  }

  /** The ensemble of a slot, created on first use. */
  private ensembleOf(slot: number): Ensemble {
    while (this.ensembles.length < slot) this.ensembles.push(null);
    this.ensureSlots(slot + 1);
    if (this.evicted[slot]) {
      // The runtime restores an evicted series before its samples come: this is not expected.
      this.evicted[slot] = 0;
      this.counters.lostOnEviction++;
    }
    const ensemble = createEnsemble();
    this.ensembles[slot] = ensemble;
    this.rowFor(slot);
    return ensemble;
  }

  private ensureSlots(n: number): void {
    if (this.dirty.length >= n) return;
    this.dirty = grown(this.dirty, n, Uint8Array);
    this.evicted = grown(this.evicted, n, Uint8Array);
    const before = this.lastSeen.length;
    this.lastSeen = grown(this.lastSeen, n, Float64Array);
    this.lastSeen.fill(Number.NEGATIVE_INFINITY, before);
    this.rowOf = grown(this.rowOf, n, Int32Array);
    this.rowOf.fill(-1, before);
  }

  /** The series in `slot` has a sample at `ts` on its way (it is not idle). */
  touch(slot: number, ts: number): void {
    this.ensureSlots(slot + 1);
    if (ts > this.lastSeen[slot]!) this.lastSeen[slot] = ts;
  }

  isEvicted(slot: number): boolean {
    return slot < this.evicted.length && this.evicted[slot] === 1;
  }

  /** Slots whose ensemble changed since `clearDirty` (and is in memory). */
  dirtySlots(): number[] {
    const out: number[] = [];
    const n = Math.min(this.dirty.length, this.ensembles.length);
    for (let slot = 0; slot < n; slot++) if (this.dirty[slot] && this.ensembles[slot]) out.push(slot);
    return out;
  }

  /** Slots with an ensemble in memory. */
  liveSlots(): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < this.ensembles.length; slot++) if (this.ensembles[slot]) out.push(slot);
    return out;
  }

  /** Slots evicted (state in the checkpoint store). */
  evictedSlots(): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < this.evicted.length; slot++) if (this.evicted[slot]) out.push(slot);
    return out;
  }

  clearDirty(): void {
    this.dirty.fill(0);
  }

  /** Every series with an ensemble counts as changed (the next per-series checkpoint writes them all). */
  markAllDirty(): void {
    this.ensureSlots(this.ensembles.length);
    for (let slot = 0; slot < this.ensembles.length; slot++) if (this.ensembles[slot]) this.dirty[slot] = 1;
  }

  /** Whether the series' ensemble is in memory. */
  hasEnsemble(slot: number): boolean {
    return !!this.ensembles[slot];
  }

  /** The analytics state of one series (null: its ensemble is not in memory). */
  seriesState(slot: number): SeriesRecord | null {
    const ensemble = this.ensembles[slot];
    if (!ensemble) return null;
    const row = this.rowFor(slot);
    return {
      e: ensemble.snapshot(),
      t: this.trends.snapshot(row, row + 1),
      p: this.patterns.snapshot(row, row + 1),
      w: this.windows.snapshot(row, row + 1),
      ...(this.periodicity ? { q: this.periodicity.snapshot(row, row + 1) } : {}),
    };
  }

  /** Series with an ensemble in memory not seen since before `cutoff` (sample time). */
  idleSlots(cutoff: number): number[] {
    const out: number[] = [];
    const n = Math.min(this.lastSeen.length, this.ensembles.length);
    for (let slot = 0; slot < n; slot++)
      if (this.ensembles[slot] && this.lastSeen[slot]! < cutoff) out.push(slot);
    return out;
  }

  /**
   * Marks a series evicted (its state is being written to the checkpoint store); its ensemble stays
   * until `dropEvicted`, once the checkpoint holding its state is written.
   */
  markEvicted(slot: number): void {
    this.ensureSlots(slot + 1);
    if (!this.evicted[slot]) this.counters.evictions++;
    this.evicted[slot] = 1;
  }

  /** Drops the state of the series marked evicted: their ensembles, and their rows go to other series. */
  dropEvicted(): void {
    for (let slot = 0; slot < this.evicted.length && slot < this.ensembles.length; slot++)
      if (this.evicted[slot] && this.ensembles[slot]) {
        this.ensembles[slot] = null;
        this.releaseRow(slot);
      }
  }

  /**
   * Restores one series from its record, as it stood at its last per-series checkpoint: at restart
   * (`returning` false), or a series evicted earlier that came back (`returning`). An evicted series
   * is not restored at restart: its state stays in the store until it returns. Without a record the
   * series starts fresh.
   */
  restoreSeries(slot: number, record: SeriesRecord | null, returning: boolean): void {
    while (this.ensembles.length < slot) this.ensembles.push(null);
    this.ensureSlots(slot + 1);
    const row = this.rowFor(slot);
    if (record) this.restoreBanks(row, record);
    const ensemble = createEnsemble();
    if (record?.e) ensemble.restore(record.e);
    this.ensembles[slot] = ensemble;
    this.evicted[slot] = 0;
    this.dirty[slot] = record?.e ? 0 : 1;
    if (returning) this.counters.restores++;
  }

  /**
   * The windows of a slot as they stand, and the one `value` departs from most (in standard
   * deviations; a window whose spread is 0 counts only when the value differs from its mean).
   */
  private windowContext(row: number, value: number): WindowContext {
    const windows = this.windows.specs.map((_, w) => this.windows.stats(row, w));
    let window = 0;
    let most = -1;
    for (const [w, s] of windows.entries()) {
      if (s.count === 0) continue;
      const deviation = Math.abs(value - s.mean);
      const z = s.std > 0 ? deviation / s.std : deviation > 0 ? Number.POSITIVE_INFINITY : 0;
      if (z > most) {
        most = z;
        window = w;
      }
    }
    return { windows, window };
  }

  /**
   * Analyses samples given as columns (slot, time, value), in the order given — which must be each
   * slot's time order — reporting what they found to `sink`.
   *
   * One pass over the batch per part (ensembles, trends, shapes, windows and periodicity): each pass
   * keeps only its own state hot, which across thousands of series is what the time goes on. Every
   * kind of finding still comes out in sample order, and an anomaly's window context is taken in the
   * windows pass just before its own sample enters the windows, as if sample by sample.
   */
  analyseBatch(
    slots: Int32Array,
    ts: Float64Array,
    observed: Float64Array,
    sink: AnalyticsSink,
    length = slots.length,
  ): void {
    const values = heldForAnalysis(observed, length);
    const minScore = this.config.minAnomalyScore;
    // Pass 1: the ensembles; anomalies are held (by sample index) for the windows pass.
    // The batch path: each ensemble writes its score into `scores` (no object per member or sample);
    // an object is made only for an anomaly.
    const found = this.found;
    found.length = 0;
    if (this.scores.length < length) this.scores = new Float64Array(Math.max(length, 2 * this.scores.length));
    const scores = this.scores;
    if (this.batchRows.length < length)
      this.batchRows = new Int32Array(Math.max(length, 2 * this.batchRows.length));
    const rows = this.batchRows;
    const out = this.detection;
    const ensembles = this.ensembles;
    for (let i = 0; i < length; i++) {
      const slot = slots[i]!;
      let ensemble = ensembles[slot];
      if (!ensemble) ensemble = this.ensembleOf(slot);
      rows[i] = this.rowOf[slot]!;
      this.dirty[slot] = 1;
      if (ts[i]! > this.lastSeen[slot]!) this.lastSeen[slot] = ts[i]!;
      const detector = ensemble.updateInto(values[i]!, out);
      const score = out[0]!;
      scores[i] = score;
      if (detector !== null && score >= minScore)
        found.push({
          index: i,
          score,
          detector,
          expectedLow: out[2]!,
          expectedHigh: out[3]!,
        });
    }
    // Pass 2: trends.
    const trends = this.trends;
    for (let i = 0; i < length; i++) {
      const trend = trends.update(rows[i]!, ts[i]!, values[i]!);
      if (trend) sink.trend(slots[i]!, ts[i]!, trend);
    }
    // Pass 3: stored shapes.
    const patterns = this.patterns;
    if (patterns.templates.length) {
      const templates = patterns.templates;
      for (let i = 0; i < length; i++) {
        const matches = patterns.update(rows[i]!, values[i]!);
        for (let m = 0; m < matches; m++)
          sink.pattern(
            slots[i]!,
            ts[i]!,
            templates[patterns.matchedTemplate[m]!]!.name,
            patterns.matchedDistance[m]!,
          );
      }
    }
    // Pass 4: windows (with the anomalies' context) and periodicity.
    const windows = this.windows;
    const periodicity = this.periodicity;
    const periodicSink = this.periodicSink;
    this.sink = sink;
    const pw = this.periodicWindow;
    let next = 0;
    for (let i = 0; i < length; i++) {
      const slot = slots[i]!;
      const row = rows[i]!;
      const t = ts[i]!;
      const value = values[i]!;
      const anomaly = next < found.length && found[next]!.index === i ? found[next++]! : null;
      if (anomaly)
        sink.anomaly(
          slot,
          t,
          observed[i]!,
          anomaly.score,
          anomaly.detector,
          anomaly.expectedLow,
          anomaly.expectedHigh,
          this.windowContext(row, value),
        );
      windows.push(row, t, value);
      if (periodicity) {
        if (anomaly) periodicity.anomaly(row, t, periodicSink);
        if (periodicity.sample(row, windows.count(row, pw)))
          periodicity.analyse(row, t, windows.values(row, pw), windows.times(row, pw), periodicSink);
      }
    }
    this.sink = null;
  }

  /** Slots up to the last evicted one. */
  private evictedLength(): number {
    let n = this.evicted.length;
    while (n > 0 && !this.evicted[n - 1]) n--;
    return n;
  }

  snapshot(): SeriesAnalyticsSnapshot {
    const n = this.ensembles.length;
    this.ensureSlots(n);
    if (this.trackSeries)
      // Every series is in its own record: only which were evicted, and when each was last seen.
      return {
        ensembles: [],
        trends: this.trends.snapshot(0, 0),
        patterns: this.patterns.snapshot(0, 0),
        windows: this.windows.snapshot(0, 0),
        ...(this.periodicity ? { periodicity: this.periodicity.snapshot(0, 0) } : {}),
        external: {
          evicted: toB64(this.evicted, Math.max(n, this.evictedLength())),
          lastSeen: toB64(this.lastSeen, Math.max(n, this.evictedLength())),
        },
      };
    return {
      ensembles: Array.from(this.ensembles, (e) => e?.snapshot() ?? null),
      rows: toB64(this.rowOf, n),
      trends: this.trends.snapshot(),
      patterns: this.patterns.snapshot(),
      windows: this.windows.snapshot(),
      ...(this.periodicity ? { periodicity: this.periodicity.snapshot() } : {}),
    };
  }
}

/**
 * The largest magnitude the analytics take: squares of larger values overflow doubles in the rolling
 * sums (1e154² > 1.8e308), after which a series' statistics would stay non-finite for good. A value
 * beyond it is analysed as if it were at it (an anomaly still reports the value observed).
 */
export const ANALYSIS_LIMIT = 1e150;

function heldForAnalysis(values: Float64Array, length: number): Float64Array {
  let i = 0;
  while (i < length && values[i]! <= ANALYSIS_LIMIT && values[i]! >= -ANALYSIS_LIMIT) i++;
  if (i === length) return values;
  const held = values.slice(0, length);
  for (; i < length; i++) held[i] = Math.max(-ANALYSIS_LIMIT, Math.min(ANALYSIS_LIMIT, held[i]!));
  return held;
}
