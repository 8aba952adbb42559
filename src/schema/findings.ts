import { z } from 'zod';
import { findAnomalies, findTrends } from '../projections/pipeline-findings/queries.js';
import type { Position, RecordedEvent } from '../stores/event-store/port.js';
import { limitOf, rangeOf, seriesIdArg } from './arguments.js';
import { builder, Label, labelList } from './builder.js';
import { tailLog } from './log-tail.js';

/** The pipeline findings as the API shows them: from ClickHouse (queries) or the live log (subscriptions). */
interface AnomalyShape {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly detector: string;
  readonly expectedLow: number;
  readonly expectedHigh: number;
  /** The log position of the finding (live) — null from the tables. */
  readonly position: Position | null;
}
interface TrendShape {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly ts: number;
  readonly direction: string;
  readonly strength: string;
  readonly slope: number;
  readonly pValue: number;
  readonly position: Position | null;
}
interface PatternShape {
  readonly pipelineId: string;
  readonly seriesId: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ts: number;
  readonly pattern: string;
  readonly distance: number;
  readonly position: Position;
}

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
    position: t.field({ type: 'Position', resolve: (a) => a.position }),
  }),
});

const SeriesFinding = z.object({
  seriesId: z.string(),
  name: z.string(),
  labels: z.record(z.string(), z.string()),
  ts: z.number(),
});
const AnomalyData = SeriesFinding.extend({
  value: z.number(),
  score: z.number(),
  detector: z.string(),
  expectedLow: z.number(),
  expectedHigh: z.number(),
});
const TrendData = SeriesFinding.extend({
  direction: z.string(),
  strength: z.string(),
  slope: z.number(),
  pValue: z.number(),
});
const PatternData = SeriesFinding.extend({ pattern: z.string(), distance: z.number() });

const pipelineOf = (event: RecordedEvent) => event.streamId.slice('findings-'.length);

/** Reads a finding's payload; one the API cannot read is skipped (the projection reports it), never fatal. */
function read<S extends z.ZodType>(schema: S, event: RecordedEvent): z.infer<S> | null {
  const parsed = schema.safeParse(event.data);
  return parsed.success ? parsed.data : null;
}

builder.queryFields((t) => ({
  anomalies: t.field({
    type: [Anomaly],
    description: "Anomalies whose sample's time is in [from, to), oldest first.",
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      seriesId: t.arg.string(),
      pipelineId: t.arg.string(),
      minScore: t.arg.float(),
      limit: t.arg.int({ description: 'At most this many (default 1,000, at most 10,000).' }),
    },
    resolve: async (_root, args, ctx) =>
      (
        await findAnomalies(ctx.analytics, {
          ...rangeOf(args.from, args.to),
          seriesId: seriesIdArg(args.seriesId),
          pipelineId: args.pipelineId ?? undefined,
          minScore: args.minScore ?? undefined,
          limit: limitOf(args.limit),
        })
      ).map((row) => ({ ...row, position: null })),
  }),
  trends: t.field({
    type: [Trend],
    description: "Trend changes whose sample's time is in [from, to), oldest first.",
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      seriesId: t.arg.string(),
      pipelineId: t.arg.string(),
      limit: t.arg.int({ description: 'At most this many (default 1,000, at most 10,000).' }),
    },
    resolve: async (_root, args, ctx) =>
      (
        await findTrends(ctx.analytics, {
          ...rangeOf(args.from, args.to),
          seriesId: seriesIdArg(args.seriesId),
          pipelineId: args.pipelineId ?? undefined,
          limit: limitOf(args.limit),
        })
      ).map((row) => ({ ...row, position: null })),
  }),
}));

const FINDINGS = (type: string) => ({ categories: ['findings'], eventTypes: [type] });
const matches = (
  d: { pipelineId: string; seriesId: string },
  args: { pipelineId?: string | null; seriesId?: string | null },
) =>
  (!args.pipelineId || d.pipelineId === args.pipelineId) && (!args.seriesId || d.seriesId === args.seriesId);

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
    subscribe: (_root, args, ctx) =>
      tailLog<AnomalyShape>(ctx.events, {
        after: args.after,
        filter: FINDINGS('anomalyDetected'),
        map: (event) => {
          const d = read(AnomalyData, event);
          if (!d) return [];
          const anomaly = { ...d, pipelineId: pipelineOf(event), position: event.position };
          return matches(anomaly, args) && anomaly.score >= (args.minScore ?? 0) ? [anomaly] : [];
        },
      }),
    resolve: (anomaly) => anomaly,
  }),
  trendChanged: t.field({
    type: Trend,
    description: 'Trend changes as they are recorded in the log.',
    args: { pipelineId: t.arg.string(), seriesId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<TrendShape>(ctx.events, {
        after: args.after,
        filter: FINDINGS('trendChanged'),
        map: (event) => {
          const d = read(TrendData, event);
          if (!d) return [];
          const trend = { ...d, pipelineId: pipelineOf(event), position: event.position };
          return matches(trend, args) ? [trend] : [];
        },
      }),
    resolve: (trend) => trend,
  }),
  patternMatched: t.field({
    type: PatternMatch,
    description: 'Stored shapes found in series, as they are recorded in the log.',
    args: { pipelineId: t.arg.string(), seriesId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<PatternShape>(ctx.events, {
        after: args.after,
        filter: FINDINGS('patternMatched'),
        map: (event) => {
          const d = read(PatternData, event);
          if (!d) return [];
          const match = { ...d, pipelineId: pipelineOf(event), position: event.position };
          return matches(match, args) ? [match] : [];
        },
      }),
    resolve: (match) => match,
  }),
}));
