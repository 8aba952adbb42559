import { DDSketch } from '@datadog/sketches-js';
import { quantileSorted } from 'simple-statistics';
import { createEnsemble } from '../analytics/ensemble.js';
import { createTemplateWatcher } from '../analytics/patterns.js';
import { createTrendTracker, type TrendState } from '../analytics/trend.js';
import { defineSeries, seriesKey } from '../metrics/identity.js';
import type { Labels, SeriesDef } from '../metrics/kinds.js';
import type { PipelineDefinition, Stage } from './definition.js';
import { matches } from './match.js';

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
}

export interface PatternFinding {
  readonly def: SeriesDef;
  /** Time of the sample that completed the shape. */
  readonly ts: number;
  readonly pattern: string;
  readonly distance: number;
}

export interface TrendFinding extends TrendState {
  readonly def: SeriesDef;
  readonly ts: number;
}

export interface TickResult {
  readonly anomalies: AnomalyFinding[];
  readonly patterns: PatternFinding[];
  readonly trends: TrendFinding[];
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

interface SeriesQuality {
  /** Timestamp of the newest released sample. */
  released: number;
  /** Newest timestamp seen (released or waiting). */
  newest: number;
  /** Waiting for the watermark, in timestamp order. */
  pending: [number, number][];
}

export interface EngineSnapshot {
  /** Late samples and quality counts gathered since the last tick (emitted with the next one). */
  readonly pendingLate?: Sample[];
  readonly pendingFindings?: Findings;
  readonly analytics?: Record<
    string,
    {
      ensemble: Parameters<ReturnType<typeof createEnsemble>['restore']>[0];
      trend: Parameters<ReturnType<typeof createTrendTracker>['restore']>[0];
      patterns?: Parameters<ReturnType<typeof createTemplateWatcher>['restore']>[0];
    }
  >;
  readonly maxTs: number | null;
  readonly series: Record<
    string,
    {
      def: SeriesDef;
      q: Omit<SeriesQuality, 'released' | 'newest'> & { released: number | null; newest: number | null };
    }
  >;
  readonly stages: Json[];
}

/**
 * One pipeline's processing, pure and deterministic: the same samples in the same order always give
 * the same outputs, and `snapshot()` captures everything needed to continue exactly where it stood.
 *
 * Per sample: routing, the schema check, duplicate detection, then the reorder buffer: a sample waits
 * until the watermark (newest timestamp seen − allowed lateness) passes it, so samples up to that much
 * out of order are put back in order; one older than the watermark, or than what its series already
 * released, is late and routed out. Released samples run through the stages in order; windows close
 * when the watermark passes their end.
 */
export class PipelineEngine {
  private maxTs = Number.NEGATIVE_INFINITY;
  private readonly series = new Map<string, { def: SeriesDef; q: SeriesQuality }>();
  private readonly runners: StageRunner[];
  private readonly derive: ReturnType<typeof deriver>;
  /** Source series passed through unchanged → their pipeline-labelled counterparts. */
  private readonly passthrough = new Map<string, SeriesDef>();
  private derived: Sample[] = [];
  private late: Sample[] = [];
  private anomalies: AnomalyFinding[] = [];
  private patterns: PatternFinding[] = [];
  private trends: TrendFinding[] = [];
  private readonly analytics = new Map<
    string,
    {
      ensemble: ReturnType<typeof createEnsemble>;
      trend: ReturnType<typeof createTrendTracker>;
      patterns: ReturnType<typeof createTemplateWatcher>;
    }
  >();
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
    if (snapshot) {
      this.late = [...(snapshot.pendingLate ?? [])];
      if (snapshot.pendingFindings)
        this.findings = { ...snapshot.pendingFindings, gaps: [...snapshot.pendingFindings.gaps] };
      // JSON turns -Infinity ("nothing yet") into null.
      const num = (v: number | null) => (v === null ? Number.NEGATIVE_INFINITY : v);
      this.maxTs = num(snapshot.maxTs);
      for (const [id, saved] of Object.entries(snapshot.analytics ?? {})) {
        const a = this.analyticsOf(id);
        a?.ensemble.restore(saved.ensemble);
        a?.trend.restore(saved.trend);
        if (saved.patterns) a?.patterns.restore(saved.patterns);
      }
      for (const [id, entry] of Object.entries(snapshot.series)) {
        this.series.set(id, {
          def: entry.def,
          q: { ...entry.q, released: num(entry.q.released), newest: num(entry.q.newest) },
        });
      }
    }
  }

  get watermark(): number {
    return this.maxTs - this.definition.quality.allowedLatenessMs;
  }

  /** Does the routing admit this series? */
  routes(def: SeriesDef): boolean {
    return this.definition.route.some((m) => matches(m, def.name, def.labels));
  }

  /** Takes one sample (already routed to this pipeline). */
  accept(def: SeriesDef, ts: number, value: number): void {
    const quality = this.definition.quality;
    this.findings.samplesIn++;
    if (
      (quality.min !== undefined && value < quality.min) ||
      (quality.max !== undefined && value > quality.max) ||
      quality.requiredLabels.some((l) => def.labels[l] === undefined)
    ) {
      this.findings.schemaViolations++;
      return;
    }
    let entry = this.series.get(def.id);
    if (!entry) {
      entry = {
        def,
        q: { released: Number.NEGATIVE_INFINITY, newest: Number.NEGATIVE_INFINITY, pending: [] },
      };
      this.series.set(def.id, entry);
    }
    const q = entry.q;
    if (ts === q.released || q.pending.some(([t]) => t === ts)) {
      this.findings.duplicates++;
      return;
    }
    if (ts < q.released || ts < this.watermark) {
      this.findings.late++;
      this.late.push({ def, ts, value });
      return;
    }
    if (ts < q.newest) {
      this.findings.outOfOrder++;
      const at = q.pending.findIndex(([t]) => t > ts);
      q.pending.splice(at === -1 ? q.pending.length : at, 0, [ts, value]);
    } else {
      q.pending.push([ts, value]);
      q.newest = ts;
    }
    if (ts > this.maxTs) this.maxTs = ts;
  }

  /** Releases what the watermark has passed, closes due windows, and returns the outputs since the last tick. */
  tick(): TickResult {
    const watermark = this.watermark;
    const expected = this.definition.quality.expectedIntervalMs;
    const released: Sample[] = [];
    for (const { def, q } of this.series.values()) {
      let n = 0;
      while (n < q.pending.length && q.pending[n]![0] <= watermark) n++;
      if (n === 0) continue;
      for (const [ts, value] of q.pending.splice(0, n)) {
        if (expected !== undefined && Number.isFinite(q.released) && ts - q.released > 2 * expected) {
          this.findings.gaps.push([def.id, q.released, ts]);
        }
        q.released = ts;
        released.push({ def, ts, value });
      }
    }
    released.sort((a, b) => a.ts - b.ts || (a.def.id < b.def.id ? -1 : a.def.id > b.def.id ? 1 : 0));
    for (const sample of released) {
      this.analyse(sample);
      this.run(0, [sample]);
    }
    for (const [i, runner] of this.runners.entries()) this.run(i + 1, runner.tick(watermark));
    const result = {
      anomalies: this.anomalies,
      patterns: this.patterns,
      trends: this.trends,
      derived: this.derived,
      late: this.late,
      findings: this.findings,
      watermark,
    };
    this.anomalies = [];
    this.patterns = [];
    this.trends = [];
    this.derived = [];
    this.late = [];
    this.findings = emptyFindings();
    return result;
  }

  /** Per-series detectors and trend tracker (when the definition asks for analytics). */
  private analyticsOf(seriesId: string) {
    const config = this.definition.analytics;
    if (!config) return null;
    let entry = this.analytics.get(seriesId);
    if (!entry) {
      entry = {
        ensemble: createEnsemble(),
        trend: createTrendTracker(config.trends),
        patterns: createTemplateWatcher(config.patterns),
      };
      this.analytics.set(seriesId, entry);
    }
    return entry;
  }

  private analyse(sample: Sample): void {
    const a = this.analyticsOf(sample.def.id);
    if (!a) return;
    const detection = a.ensemble.update(sample.value);
    if (detection.strongest && detection.score >= this.definition.analytics!.minAnomalyScore) {
      this.anomalies.push({
        def: sample.def,
        ts: sample.ts,
        value: sample.value,
        score: detection.score,
        detector: detection.strongest.detector,
        expectedLow: detection.strongest.expectedLow,
        expectedHigh: detection.strongest.expectedHigh,
      });
    }
    const trend = a.trend.update(sample.ts, sample.value);
    if (trend) this.trends.push({ ...trend, def: sample.def, ts: sample.ts });
    for (const match of a.patterns.update(sample.value))
      this.patterns.push({ ...match, def: sample.def, ts: sample.ts });
  }

  snapshot(): EngineSnapshot {
    return {
      pendingLate: [...this.late],
      pendingFindings: { ...this.findings, gaps: [...this.findings.gaps] },
      analytics: Object.fromEntries(
        [...this.analytics.entries()].map(([id, a]) => [
          id,
          { ensemble: a.ensemble.snapshot(), trend: a.trend.snapshot(), patterns: a.patterns.snapshot() },
        ]),
      ),
      maxTs: this.maxTs,
      series: Object.fromEntries(
        [...this.series.entries()].map(([id, e]) => [
          id,
          { def: e.def, q: { ...e.q, pending: [...e.q.pending] } },
        ]),
      ),
      stages: this.runners.map((r) => r.snapshot()),
    };
  }

  private run(from: number, samples: Sample[]): void {
    for (const sample of samples) {
      let current = [sample];
      for (let i = from; i < this.runners.length && current.length; i++)
        current = current.flatMap((s) => this.runners[i]!.push(s));
      // Outputs are always the pipeline's own series, never a source series passed through unchanged.
      for (const s of current) {
        if (s.def.labels.pipeline === this.definition.id) {
          this.derived.push(s);
          continue;
        }
        let def = this.passthrough.get(s.def.id);
        if (!def) {
          def = this.derive(s.def.name, s.def.labels, s.def.unit, s.def.kind);
          this.passthrough.set(s.def.id, def);
        }
        this.derived.push({ ...s, def });
      }
    }
  }
}

/** Any findings worth an event? */
export function hasFindings(f: Findings): boolean {
  return f.schemaViolations + f.duplicates + f.outOfOrder + f.late > 0 || f.gaps.length > 0;
}
