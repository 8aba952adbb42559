import { type FactData, readFactOf } from '../domain/facts.js';
import type { AnomalyDetected } from '../domain/pipeline/findings.js';
import {
  type AnomalyRow,
  findAnomalies,
  findPatterns,
  findTrends,
  type PatternRow,
  type TrendRow,
} from '../projections/pipeline-findings/queries.js';
import type { Position, RecordedEvent } from '../stores/event-store/port.js';
import { findingsArgs, findingsConnection, findingsQuery, minScoreOf } from './arguments.js';
import { builder, Label, labelList } from './builder.js';
import type { GraphQLContext } from './context.js';
import { tailLog } from './log-tail.js';

/**
 * The pipeline findings as the API shows them: rows from ClickHouse (queries; no log position) or
 * facts from the live log (subscriptions; with the position to resume after).
 */
type AnomalyShape = AnomalyRow & { readonly position: Position | null };
/** Statistics of an empty window are NaN in the domain, null in JSON and in the API. */
interface WindowShape {
  readonly name: string;
  readonly count: number;
  readonly mean: number | null;
  readonly std: number | null;
  readonly min: number | null;
  readonly max: number | null;
}
const finite = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? null : v;

const WindowStats = builder.objectRef<WindowShape>('WindowStats').implement({
  description: "A sliding window's statistics just before the sample.",
  fields: (t) => ({
    name: t.exposeString('name'),
    count: t.exposeInt('count'),
    mean: t.float({ nullable: true, resolve: (w) => finite(w.mean) }),
    std: t.float({ nullable: true, resolve: (w) => finite(w.std) }),
    min: t.float({ nullable: true, resolve: (w) => finite(w.min) }),
    max: t.float({ nullable: true, resolve: (w) => finite(w.max) }),
  }),
});
type TrendShape = TrendRow & { readonly position: Position | null };
type PatternShape = PatternRow & { readonly position: Position | null };

const Anomaly = builder.objectRef<AnomalyShape>('Anomaly').implement({
  description: 'A sample the detector ensemble found anomalous.',
  fields: (t) => ({
    pipelineId: t.exposeString('pipelineId'),
    seriesId: t.exposeString('seriesId'),
    name: t.exposeString('name'),
    labels: t.field({ type: [Label], resolve: (a) => labelList(a.labels) }),
    ts: t.field({ type: 'DateTime', resolve: (a) => a.ts }),
    value: t.exposeFloat('value'),
    score: t.exposeFloat('score', { description: 'Calibrated ensemble score in [0, 1].' }),
    detector: t.exposeString('detector', { description: 'The detector that fired.' }),
    expectedLow: t.exposeFloat('expectedLow'),
    expectedHigh: t.exposeFloat('expectedHigh'),
    window: t.field({
      type: WindowStats,
      nullable: true,
      description:
        'The sliding window the value departs from most, as it stood before the sample (null on facts older than windows).',
      resolve: (a) =>
        !a.window
          ? null
          : {
              name: a.window,
              count: a.windowCount,
              mean: a.windowMean,
              std: a.windowStd,
              min: a.windowMin,
              max: a.windowMax,
            },
    }),
    position: t.field({ type: 'Position', nullable: true, resolve: (a) => a.position }),
  }),
});

const Trend = builder.objectRef<TrendShape>('Trend').implement({
  description: "A change in a series' trend direction or strength.",
  fields: (t) => ({
    pipelineId: t.exposeString('pipelineId'),
    seriesId: t.exposeString('seriesId'),
    ts: t.field({ type: 'DateTime', resolve: (a) => a.ts }),
    direction: t.exposeString('direction'),
    strength: t.exposeString('strength'),
    slope: t.exposeFloat('slope', { description: 'Least-squares slope, per second.' }),
    pValue: t.exposeFloat('pValue'),
    position: t.field({ type: 'Position', nullable: true, resolve: (a) => a.position }),
  }),
});

const PatternMatch = builder.objectRef<PatternShape>('PatternMatch').implement({
  description: 'A stored shape found in a series.',
  fields: (t) => ({
    pipelineId: t.exposeString('pipelineId'),
    seriesId: t.exposeString('seriesId'),
    name: t.exposeString('name'),
    labels: t.field({ type: [Label], resolve: (a) => labelList(a.labels) }),
    ts: t.field({ type: 'DateTime', resolve: (a) => a.ts }),
    pattern: t.exposeString('pattern'),
    distance: t.exposeFloat('distance'),
    position: t.field({ type: 'Position', nullable: true, resolve: (a) => a.position }),
  }),
});

const pipelineOf = (event: RecordedEvent) => event.streamId.slice('findings-'.length);

/** An anomaly fact as the API shows it: its chosen window's statistics flattened as in the table. */
function anomalyShape(d: AnomalyDetected): Omit<AnomalyShape, 'pipelineId' | 'position'> {
  const w = d.windows.find((x) => x.name === d.window);
  return {
    seriesId: d.seriesId,
    name: d.name,
    labels: d.labels,
    ts: d.ts,
    value: d.value,
    score: d.score,
    detector: d.detector,
    expectedLow: d.expectedLow ?? Number.NaN,
    expectedHigh: d.expectedHigh ?? Number.NaN,
    window: d.window,
    windowCount: w?.count ?? 0,
    windowMean: w?.mean ?? Number.NaN,
    windowStd: w?.std ?? Number.NaN,
    windowMin: w?.min ?? Number.NaN,
    windowMax: w?.max ?? Number.NaN,
  };
}

builder.queryFields((t) => ({
  anomalies: t.connection({
    type: Anomaly,
    description: "Anomalies whose sample's time is in [from, to), oldest first.",
    args: { ...findingsArgs(t), minScore: t.arg.float() },
    resolve: (_root, args, ctx) => {
      const query = { ...findingsQuery(args), minScore: minScoreOf(args.minScore) };
      return findingsConnection(args, (page) => findAnomalies(ctx.analytics, { ...query, ...page }));
    },
  }),
  trends: t.connection({
    type: Trend,
    description: "Trend changes whose sample's time is in [from, to), oldest first.",
    args: findingsArgs(t),
    resolve: (_root, args, ctx) => {
      const query = findingsQuery(args);
      return findingsConnection(args, (page) => findTrends(ctx.analytics, { ...query, ...page }));
    },
  }),
  patterns: t.connection({
    type: PatternMatch,
    description: "Stored-shape matches whose sample's time is in [from, to), oldest first.",
    args: { ...findingsArgs(t), pattern: t.arg.string() },
    resolve: (_root, args, ctx) => {
      const query = { ...findingsQuery(args), pattern: args.pattern ?? undefined };
      return findingsConnection(args, (page) => findPatterns(ctx.analytics, { ...query, ...page }));
    },
  }),
}));

interface FeedArgs {
  readonly pipelineId?: string | null;
  readonly seriesId?: string | null;
  readonly after?: Position | null;
}

/**
 * A live feed of one kind of finding, from the log, for the pipeline and series asked for. Each fact is
 * read with its schema; one that does not match ends the feed with that error (resume after it).
 */
function findingsFeed<
  K extends 'anomalyDetected' | 'trendChanged' | 'patternMatched',
  T extends { seriesId: string },
>(
  ctx: GraphQLContext,
  type: K,
  shape: (data: FactData<K>) => Omit<T, 'pipelineId' | 'position'>,
  args: FeedArgs,
  keep: (finding: T) => boolean = () => true,
) {
  return tailLog<T>(ctx.logHub, {
    after: args.after,
    filter: { categories: ['findings'], eventTypes: [type] },
    map: (event) => {
      const fact = readFactOf(event, type) as { data: FactData<K> };
      const finding = {
        ...shape(fact.data),
        pipelineId: pipelineOf(event),
        position: event.position,
      } as unknown as T;
      const wanted =
        (!args.pipelineId || args.pipelineId === pipelineOf(event)) &&
        (!args.seriesId || finding.seriesId === args.seriesId);
      return wanted && keep(finding) ? [finding] : [];
    },
  });
}

builder.subscriptionFields((t) => ({
  anomalyDetected: t.field({
    type: Anomaly,
    description:
      'Anomalies as they are recorded in the log. Resume after a disconnect by passing the last `position` received as `after`.',
    args: {
      pipelineId: t.arg.string(),
      seriesId: t.arg.string(),
      minScore: t.arg.float(),
      after: t.arg({ type: 'Position' }),
    },
    subscribe: (_root, args, ctx) => {
      const minScore = minScoreOf(args.minScore) ?? 0;
      return findingsFeed<'anomalyDetected', AnomalyShape>(
        ctx,
        'anomalyDetected',
        anomalyShape,
        args,
        (a) => a.score >= minScore,
      );
    },
    resolve: (anomaly) => anomaly,
  }),
  trendChanged: t.field({
    type: Trend,
    description: 'Trend changes as they are recorded in the log.',
    args: { pipelineId: t.arg.string(), seriesId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      findingsFeed<'trendChanged', TrendShape>(
        ctx,
        'trendChanged',
        (d) => ({
          seriesId: d.seriesId,
          ts: d.ts,
          direction: d.direction,
          strength: d.strength,
          slope: d.slope,
          pValue: d.pValue ?? Number.NaN,
        }),
        args,
      ),
    resolve: (trend) => trend,
  }),
  patternMatched: t.field({
    type: PatternMatch,
    description: 'Stored shapes found in series, as they are recorded in the log.',
    args: { pipelineId: t.arg.string(), seriesId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      findingsFeed<'patternMatched', PatternShape>(
        ctx,
        'patternMatched',
        (d) => ({
          seriesId: d.seriesId,
          name: d.name,
          labels: d.labels,
          ts: d.ts,
          pattern: d.pattern,
          distance: d.distance,
        }),
        args,
      ),
    resolve: (match) => match,
  }),
}));
