import { DDSketch } from '@datadog/sketches-js';
import { quantileSorted } from 'simple-statistics';
import { grown } from '../analytics/columns.js';
import type { Frequency } from '../analytics/patterns.js';
import type { TrendState } from '../analytics/trend.js';
import type { WindowStats } from '../analytics/windows.js';
import { defineSeries, seriesKey } from '../metrics/identity.js';
import type { Labels, SeriesDef } from '../metrics/kinds.js';
import type { PipelineDefinition, Stage } from './definition.js';
import { matches } from './match.js';
import { type AnalyticsSink, SeriesAnalytics, type SeriesAnalyticsSnapshot } from './series-analytics.js';
import { type SeriesSlotSnapshot, SeriesSlots } from './series-slots.js';

export interface Sample {
  readonly def: SeriesDef;
  readonly ts: number;
  readonly value: number;
}

export interface Findings {
  samplesIn: number;
  schemaViolations: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  /** Series silent for more than twice the expected interval: [series id, from ts, to ts]. */
  gaps: [string, number, number][];
}

export interface AnomalyFinding {
  readonly def: SeriesDef;
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly detector: string;
  readonly expectedLow: number;
  readonly expectedHigh: number;
  /** The series' sliding windows just before the sample… */
  readonly windows: readonly WindowStats[];
  /** …and the name of the one the value departs from most. */
  readonly window: string;
}

export interface PatternFinding {
  readonly def: SeriesDef;
  /** Time of the sample that completed the shape. */
  readonly ts: number;
  readonly pattern: string;
  readonly distance: number;
}

/** A change of a series' seasonality, dominant frequencies or anomaly recurrence. */
export type PeriodicityFinding = { readonly def: SeriesDef; readonly ts: number } & (
  | {
      readonly type: 'seasonalityDetected';
      /** In samples; `periodMs` from the window's times (null over a count window). */
      readonly period: number;
      readonly periodMs: number | null;
      readonly strength: number;
      readonly previousPeriod: number | null;
    }
  | { readonly type: 'seasonalityLost'; readonly previousPeriod: number }
  | { readonly type: 'frequenciesChanged'; readonly frequencies: Frequency[] }
  | { readonly type: 'recurringAnomalyDetected'; readonly intervalMs: number; readonly occurrences: number }
);

export interface TrendFinding extends TrendState {
  readonly def: SeriesDef;
  readonly ts: number;
}

export interface TickResult {
  readonly anomalies: AnomalyFinding[];
  readonly patterns: PatternFinding[];
  readonly trends: TrendFinding[];
  readonly periodicity: PeriodicityFinding[];
  readonly derived: Sample[];
  readonly late: Sample[];
  readonly findings: Findings;
  readonly watermark: number;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

interface StageRunner {
  push(sample: Sample): Sample[];
  tick(watermark: number): Sample[];
  snapshot(): Json;
}

const emptyFindings = (): Findings => ({
  samplesIn: 0,
  schemaViolations: 0,
  duplicates: 0,
  outOfOrder: 0,
  late: 0,
  gaps: [],
});
const sketchToB64 = (s: DDSketch) => Buffer.from(s.toProto()).toString('base64');
const sketchFromB64 = (b: string) => DDSketch.fromProto(Buffer.from(b, 'base64'));

/** Derived series carry the pipeline's id as a label, so they never collide with their sources. */
function deriver(pipelineId: string) {
  const cache = new Map<string, SeriesDef>();
  return (name: string, labels: Labels, unit = '', kind: SeriesDef['kind'] = 'gauge'): SeriesDef => {
    const all = { ...labels, pipeline: pipelineId };
    const key = `${kind}|${seriesKey(name, all)}`;
    let def = cache.get(key);
    if (!def) {
      def = defineSeries({ name, labels: all, kind, unit });
      cache.set(key, def);
    }
    return def;
  };
}

function pick(labels: Labels, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) if (labels[key] !== undefined) out[key] = labels[key]!;
  return out;
}

function stripPipeline(labels: Labels): Record<string, string> {
  const { pipeline: _ignored, ...rest } = labels;
  return rest;
}

function filterStage(stage: Extract<Stage, { type: 'filter' }>): StageRunner {
  return {
    push: (s) => (matches(stage.match, s.def.name, s.def.labels) !== stage.drop ? [s] : []),
    tick: () => [],
    snapshot: () => null,
  };
}

function transformStage(
  stage: Extract<Stage, { type: 'transform' }>,
  derive: ReturnType<typeof deriver>,
  saved: Json,
): StageRunner {
  const previous = new Map<string, [number, number]>(
    saved && typeof saved === 'object' && !Array.isArray(saved)
      ? (Object.entries(saved) as [string, [number, number]][])
      : [],
  );
  return {
    push(s) {
      const value = s.value * stage.scale + stage.offset;
      const unit = stage.unit ?? s.def.unit;
      if (stage.counterToRate && s.def.kind === 'counter') {
        const prev = previous.get(s.def.id);
        previous.set(s.def.id, [s.ts, s.value]);
        if (!prev || s.ts <= prev[0]) return [];
        const increase = s.value >= prev[1] ? s.value - prev[1] : s.value;
        const rate = ((increase * stage.scale) / (s.ts - prev[0])) * 1000;
        return [
          { def: derive(`${s.def.name}:rate`, stripPipeline(s.def.labels), unit), ts: s.ts, value: rate },
        ];
      }
      return [{ def: derive(s.def.name, stripPipeline(s.def.labels), unit), ts: s.ts, value }];
    },
    tick: () => [],
    snapshot: () => Object.fromEntries(previous) as Json,
  };
}

function enrichStage(
  stage: Extract<Stage, { type: 'enrich' }>,
  derive: ReturnType<typeof deriver>,
): StageRunner {
  return {
    push(s) {
      const looked = stage.lookup ? (stage.lookup.values[s.def.labels[stage.lookup.label] ?? ''] ?? {}) : {};
      const labels = { ...stripPipeline(s.def.labels), ...stage.labels, ...looked };
      return [{ def: derive(s.def.name, labels, s.def.unit), ts: s.ts, value: s.value }];
    },
    tick: () => [],
    snapshot: () => null,
  };
}

interface Accumulator {
  name: string;
  labels: Record<string, string>;
  unit: string;
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Values kept exactly for quantiles while a window holds at most EXACT_QUANTILE_VALUES… */
  values: number[] | null;
  /** …past that, a DDSketch (1 % relative accuracy) takes over. */
  sketch: DDSketch | null;
}

const EXACT_QUANTILE_VALUES = 4096;

function quantile(acc: Accumulator, q: number): number {
  if (acc.values)
    return quantileSorted(
      [...acc.values].sort((a, b) => a - b),
      q,
    );
  return acc.sketch!.getValueAtQuantile(q);
}

function aggregateStage(
  stage: Extract<Stage, { type: 'aggregate' }>,
  derive: ReturnType<typeof deriver>,
  saved: Json,
): StageRunner {
  const size = stage.window.sizeMs;
  const slide = stage.window.type === 'sliding' ? stage.window.slideMs! : size;
  const quantiles = stage.functions.some((f) => f.startsWith('p'));
  const suffix =
    stage.window.type === 'tumbling' ? `${size / 1000}s` : `${size / 1000}s_every_${slide / 1000}s`;
  const open = new Map<string, Accumulator>();
  if (Array.isArray(saved)) {
    for (const item of saved as unknown as (Omit<Accumulator, 'sketch'> & {
      key: string;
      sketch: string | null;
    })[]) {
      // (A sketch restored from its serialized form can differ from the original in the last bits.)
      open.set(item.key, { ...item, sketch: item.sketch ? sketchFromB64(item.sketch) : null });
    }
  }
  return {
    push(s) {
      const labels = pick(s.def.labels, stage.by);
      const group = seriesKey(s.def.name, labels);
      const last = Math.floor(s.ts / slide) * slide;
      for (let start = last; start > s.ts - size; start -= slide) {
        const key = `${group}@${start}`;
        let acc = open.get(key);
        if (!acc) {
          acc = {
            name: s.def.name,
            labels,
            unit: s.def.unit,
            start,
            count: 0,
            sum: 0,
            min: Number.POSITIVE_INFINITY,
            max: Number.NEGATIVE_INFINITY,
            values: quantiles ? [] : null,
            sketch: null,
          };
          open.set(key, acc);
        }
        acc.count++;
        acc.sum += s.value;
        if (s.value < acc.min) acc.min = s.value;
        if (s.value > acc.max) acc.max = s.value;
        if (acc.values) {
          acc.values.push(s.value);
          if (acc.values.length > EXACT_QUANTILE_VALUES) {
            acc.sketch = new DDSketch({ relativeAccuracy: 0.01 });
            for (const v of acc.values) acc.sketch.accept(v);
            acc.values = null;
          }
        } else acc.sketch?.accept(s.value);
      }
      return [];
    },
    tick(watermark) {
      const out: Sample[] = [];
      const closed = [...open.entries()].filter(([, acc]) => acc.start + size <= watermark);
      closed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [key, acc] of closed) {
        open.delete(key);
        for (const fn of stage.functions) {
          const value =
            fn === 'count'
              ? acc.count
              : fn === 'sum'
                ? acc.sum
                : fn === 'min'
                  ? acc.min
                  : fn === 'max'
                    ? acc.max
                    : fn === 'avg'
                      ? acc.sum / acc.count
                      : quantile(acc, Number(fn.slice(1)) / 100);
          out.push({
            def: derive(`${acc.name}:${fn}_${suffix}`, acc.labels, fn === 'count' ? '' : acc.unit),
            ts: acc.start,
            value,
          });
        }
      }
      return out;
    },
    snapshot: () =>
      [...open.entries()].map(([key, acc]) => ({
        ...acc,
        key,
        sketch: acc.sketch ? sketchToB64(acc.sketch) : null,
      })) as unknown as Json,
  };
}

function joinStage(
  stage: Extract<Stage, { type: 'join' }>,
  derive: ReturnType<typeof deriver>,
  saved: Json,
): StageRunner {
  const open = new Map<
    string,
    { labels: Record<string, string>; start: number; l: [number, number]; r: [number, number] }
  >();
  if (Array.isArray(saved))
    for (const [key, value] of saved as unknown as [string, never][]) open.set(key, value);
  const apply = (l: number, r: number) =>
    stage.op === 'ratio'
      ? r === 0
        ? Number.NaN
        : l / r
      : stage.op === 'difference'
        ? l - r
        : stage.op === 'sum'
          ? l + r
          : l * r;
  return {
    push(s) {
      const left = matches(stage.left, s.def.name, s.def.labels);
      const right = !left && matches(stage.right, s.def.name, s.def.labels);
      if (!left && !right) return [s];
      const labels = pick(s.def.labels, stage.on);
      const start = Math.floor(s.ts / stage.windowMs) * stage.windowMs;
      const key = `${seriesKey('', labels)}@${start}`;
      let window = open.get(key);
      if (!window) {
        window = { labels, start, l: [0, 0], r: [0, 0] };
        open.set(key, window);
      }
      const side = left ? window.l : window.r;
      side[0] += s.value;
      side[1] += 1;
      return [];
    },
    tick(watermark) {
      const out: Sample[] = [];
      const closed = [...open.entries()].filter(([, w]) => w.start + stage.windowMs <= watermark);
      closed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [key, w] of closed) {
        open.delete(key);
        if (w.l[1] === 0 || w.r[1] === 0) continue;
        const value = apply(w.l[0] / w.l[1], w.r[0] / w.r[1]);
        if (Number.isFinite(value)) out.push({ def: derive(stage.as, w.labels), ts: w.start, value });
      }
      return out;
    },
    snapshot: () => [...open.entries()] as unknown as Json,
  };
}

/** The layout of `EngineSnapshot`; a checkpoint of another layout cannot be restored (start fresh). */
export const ENGINE_SNAPSHOT_FORMAT = 2;

export interface EngineSnapshot {
  /** `ENGINE_SNAPSHOT_FORMAT` when it was taken (absent: the first layout, series keyed by id). */
  readonly format?: number;
  /** Late samples and quality counts gathered since the last tick (emitted with the next one). */
  readonly pendingLate?: Sample[];
  readonly pendingFindings?: Findings;
  readonly analytics?: SeriesAnalyticsSnapshot;
  readonly maxTs: number | null;
  /** Every series seen, in slot order (the order of first sight). */
  readonly series: SeriesSlotSnapshot[];
  readonly stages: Json[];
}

/**
 * One pipeline's processing, pure and deterministic: the same samples in the same order always give
 * the same outputs, and `snapshot()` captures everything needed to continue exactly where it stood.
 *
 * Per sample: routing, the schema check, duplicate detection, then the reorder buffer: a sample waits
 * until its series' watermark passes it — the later of the pipeline's (newest timestamp seen − allowed
 * lateness) and the series' own (its newest sample − its allowed lateness) — so samples up to that
 * much out of order are put back in order. Lateness is judged per series: a sample more than its
 * allowed lateness behind its own series' newest, or older than what its series already released, is
 * late and routed out. Released samples, in (time, series id) order, go through the analytics as
 * columns (`analyseBatch`) and then through the stages in order; windows close when the pipeline's
 * watermark passes their end, and a released sample behind a window already closed is analysed but
 * routed out as late rather than folded into it.
 *
 * Series are numbered in dense slots on first sight (`slotOf`); the hot path (`acceptAt`,
 * `analyseBatch`) works on slot numbers and typed arrays, never on string-keyed maps.
 */
export class PipelineEngine {
  private maxTs = Number.NEGATIVE_INFINITY;
  private readonly slots: SeriesSlots;
  /** Per slot: whether the series has every required label (the schema check that depends on the series only). */
  private labelsOk = new Uint8Array(0);
  private labelsChecked = 0;
  /** Per slot: its allowed lateness (the pipeline's, or the first `latenessBySeries` entry that matches). */
  private lateness = new Float64Array(0);
  /** The watermark the stages' windows were last closed at: a sample behind it is late for windows. */
  private stageClock = Number.NEGATIVE_INFINITY;
  private readonly runners: StageRunner[];
  private readonly derive: ReturnType<typeof deriver>;
  /** Source series passed through unchanged → their pipeline-labelled counterparts. */
  private readonly passthrough = new Map<string, SeriesDef>();
  /** The same, by slot, for the path without stages. */
  private readonly passthroughBySlot: SeriesDef[] = [];
  private derived: Sample[] = [];
  private late: Sample[] = [];
  private anomalies: AnomalyFinding[] = [];
  private patterns: PatternFinding[] = [];
  private trends: TrendFinding[] = [];
  private periodicity: PeriodicityFinding[] = [];
  private readonly analytics: SeriesAnalytics | null;
  private readonly sink: AnalyticsSink;
  private findings = emptyFindings();

  constructor(
    readonly definition: PipelineDefinition,
    snapshot?: EngineSnapshot,
  ) {
    const derive = deriver(definition.id);
    this.derive = derive;
    this.runners = definition.stages.map((stage, i): StageRunner => {
      const saved = snapshot?.stages[i] ?? null;
      switch (stage.type) {
        case 'filter':
          return filterStage(stage);
        case 'transform':
          return transformStage(stage, derive, saved);
        case 'enrich':
          return enrichStage(stage, derive);
        case 'aggregate':
          return aggregateStage(stage, derive, saved);
        default:
          return joinStage(stage, derive, saved);
      }
    });
    const config = definition.analytics;
    this.analytics = config
      ? new SeriesAnalytics(
          { ...config, periodicity: config.periodicity === false ? undefined : config.periodicity },
          snapshot?.analytics,
        )
      : null;
    const defs = () => this.slots.defs;
    this.sink = {
      anomaly: (slot, ts, value, score, detector, expectedLow, expectedHigh, context) =>
        this.anomalies.push({
          def: defs()[slot]!,
          ts,
          value,
          score,
          detector,
          expectedLow,
          expectedHigh,
          windows: context.windows,
          window: context.windows[context.window]!.name,
        }),
      trend: (slot, ts, state) => this.trends.push({ ...state, def: defs()[slot]!, ts }),
      pattern: (slot, ts, pattern, distance) =>
        this.patterns.push({ pattern, distance, def: defs()[slot]!, ts }),
      seasonalityDetected: (slot, ts, season, periodMs, previousPeriod) =>
        this.periodicity.push({
          type: 'seasonalityDetected',
          def: defs()[slot]!,
          ts,
          period: season.period,
          periodMs,
          strength: season.strength,
          previousPeriod,
        }),
      seasonalityLost: (slot, ts, previousPeriod) =>
        this.periodicity.push({ type: 'seasonalityLost', def: defs()[slot]!, ts, previousPeriod }),
      frequenciesChanged: (slot, ts, frequencies) =>
        this.periodicity.push({ type: 'frequenciesChanged', def: defs()[slot]!, ts, frequencies }),
      recurringAnomalyDetected: (slot, ts, recurrence) =>
        this.periodicity.push({ type: 'recurringAnomalyDetected', def: defs()[slot]!, ts, ...recurrence }),
    };
    this.slots = new SeriesSlots(snapshot?.series);
    if (snapshot) {
      this.late = [...(snapshot.pendingLate ?? [])];
      if (snapshot.pendingFindings)
        this.findings = { ...snapshot.pendingFindings, gaps: [...snapshot.pendingFindings.gaps] };
      // JSON turns -Infinity ("nothing yet") into null.
      this.maxTs = snapshot.maxTs === null ? Number.NEGATIVE_INFINITY : snapshot.maxTs;
      // The stages were last ticked at most at this watermark (a tick follows every batch).
      this.stageClock = this.watermark;
    }
  }

  /** The per-series analytics (null without an `analytics` section): checkpoints and eviction reach it. */
  get seriesAnalytics(): SeriesAnalytics | null {
    return this.analytics;
  }

  get watermark(): number {
    return this.maxTs - this.definition.quality.allowedLatenessMs;
  }

  /** Does the routing admit this series? */
  routes(def: SeriesDef): boolean {
    return this.definition.route.some((m) => matches(m, def.name, def.labels));
  }

  /** The dense slot of a series (numbered on first sight), for `acceptAt` and `analyseBatch`. */
  slotOf(def: SeriesDef): number {
    return this.slots.slotOf(def);
  }

  /** Takes one sample (already routed to this pipeline). */
  accept(def: SeriesDef, ts: number, value: number): void {
    this.acceptAt(this.slots.slotOf(def), ts, value);
  }

  /** Takes one sample of the series in `slot` (from `slotOf`; already routed to this pipeline). */
  acceptAt(slot: number, ts: number, value: number): void {
    const quality = this.definition.quality;
    this.findings.samplesIn++;
    if (slot >= this.labelsChecked) this.checkLabels();
    if (
      (quality.min !== undefined && value < quality.min) ||
      (quality.max !== undefined && value > quality.max) ||
      !this.labelsOk[slot]
    ) {
      this.findings.schemaViolations++;
      return;
    }
    const outcome = this.slots.accept(slot, ts, value, this.lateness[slot]!);
    if (outcome === 'duplicate') {
      this.findings.duplicates++;
      return;
    }
    if (outcome === 'late') {
      this.findings.late++;
      this.late.push({ def: this.slots.defs[slot]!, ts, value });
      return;
    }
    if (outcome === 'outOfOrder') this.findings.outOfOrder++;
    if (ts > this.maxTs) this.maxTs = ts;
  }

  /** What depends on the series only (required labels, allowed lateness), for the slots new since the last call. */
  private checkLabels(): void {
    const defs = this.slots.defs;
    const { requiredLabels, allowedLatenessMs, latenessBySeries } = this.definition.quality;
    this.labelsOk = grown(this.labelsOk, defs.length, Uint8Array);
    this.lateness = grown(this.lateness, defs.length, Float64Array);
    for (let slot = this.labelsChecked; slot < defs.length; slot++) {
      const def = defs[slot]!;
      this.labelsOk[slot] = requiredLabels.every((l) => def.labels[l] !== undefined) ? 1 : 0;
      this.lateness[slot] =
        latenessBySeries.find((o) => matches(o.match, def.name, def.labels))?.allowedLatenessMs ??
        allowedLatenessMs;
    }
    this.labelsChecked = defs.length;
  }

  /**
   * Runs the per-series analytics (detector ensemble, trends, stored shapes) over samples given as
   * columns — slots from `slotOf`, in each series' time order — as `tick` does with what it releases;
   * the findings come out with the next `tick`.
   */
  analyseBatch(slots: Int32Array, ts: Float64Array, values: Float64Array, length = slots.length): void {
    this.analytics?.analyseBatch(slots, ts, values, this.sink, length);
  }

  /** Releases what the watermark has passed, closes due windows, and returns the outputs since the last tick. */
  tick(): TickResult {
    const watermark = this.watermark;
    const defs = this.slots.defs;
    if (this.slots.size > this.labelsChecked) this.checkLabels();
    const lateness = this.lateness;
    const released = this.slots.release(
      watermark,
      (slot) => lateness[slot]!,
      this.definition.quality.allowedLatenessMs,
      this.definition.quality.expectedIntervalMs,
      (slot, from, to) => this.findings.gaps.push([defs[slot]!.id, from, to]),
    );
    const n = released.length;
    this.analyseBatch(released.slots, released.ts, released.values, n);
    // `output: none` only analyses: nothing goes through the stages, nothing is written back.
    const writes = this.definition.output !== 'none';
    if (writes && this.runners.length === 0) {
      // Without stages every released sample passes through unchanged, as the pipeline's own series.
      for (let i = 0; i < n; i++) {
        const slot = released.slots[i]!;
        let def = this.passthroughBySlot[slot];
        if (!def) {
          const source = defs[slot]!;
          def = source.labels.pipeline === this.definition.id ? source : this.passthroughOf(source);
          this.passthroughBySlot[slot] = def;
        }
        this.derived.push({ def, ts: released.ts[i]!, value: released.values[i]! });
      }
    } else if (writes) {
      for (let i = 0; i < n; i++) {
        const sample = { def: defs[released.slots[i]!]!, ts: released.ts[i]!, value: released.values[i]! };
        // Analysed already; behind the windows the stages have closed, it is late for them: routed
        // out and counted, never folded into a window that was already emitted.
        if (sample.ts <= this.stageClock) {
          this.findings.late++;
          this.late.push(sample);
        } else this.run(0, [sample]);
      }
    }
    if (writes) for (const [i, runner] of this.runners.entries()) this.run(i + 1, runner.tick(watermark));
    if (watermark > this.stageClock) this.stageClock = watermark;
    const result = {
      anomalies: this.anomalies,
      patterns: this.patterns,
      trends: this.trends,
      periodicity: this.periodicity,
      derived: this.derived,
      late: this.late,
      findings: this.findings,
      watermark,
    };
    this.anomalies = [];
    this.patterns = [];
    this.trends = [];
    this.periodicity = [];
    this.derived = [];
    this.late = [];
    this.findings = emptyFindings();
    return result;
  }

  snapshot(): EngineSnapshot {
    return {
      format: ENGINE_SNAPSHOT_FORMAT,
      pendingLate: [...this.late],
      pendingFindings: { ...this.findings, gaps: [...this.findings.gaps] },
      ...(this.analytics ? { analytics: this.analytics.snapshot() } : {}),
      maxTs: this.maxTs,
      series: this.slots.snapshot(),
      stages: this.runners.map((r) => r.snapshot()),
    };
  }

  /** A source series' pipeline-labelled counterpart (a source series is never emitted as itself). */
  private passthroughOf(source: SeriesDef): SeriesDef {
    let def = this.passthrough.get(source.id);
    if (!def) {
      def = this.derive(source.name, source.labels, source.unit, source.kind);
      this.passthrough.set(source.id, def);
    }
    return def;
  }

  private run(from: number, samples: Sample[]): void {
    for (const sample of samples) {
      let current = [sample];
      for (let i = from; i < this.runners.length && current.length; i++)
        current = current.flatMap((s) => this.runners[i]!.push(s));
      // Outputs are always the pipeline's own series, never a source series passed through unchanged.
      for (const s of current) {
        if (s.def.labels.pipeline === this.definition.id) this.derived.push(s);
        else this.derived.push({ ...s, def: this.passthroughOf(s.def) });
      }
    }
  }
}

/** Any findings worth an event? */
export function hasFindings(f: Findings): boolean {
  return f.schemaViolations + f.duplicates + f.outOfOrder + f.late > 0 || f.gaps.length > 0;
}
