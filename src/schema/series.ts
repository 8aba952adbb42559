import { ValidationError } from '../domain/errors.js';
import {
  type AggregateGroup,
  aggregate,
  correlate,
  DEFAULT_POINT_LIMIT,
  type LagCorrelation,
  labelNames,
  labelValues,
  MAX_POINT_LIMIT,
  type MatchOp,
  type Point,
  SERIES_FUNCTIONS,
  type SeriesBucket,
  type SeriesCorrelation,
  type SeriesFunction,
  type SeriesInfo,
  type SeriesRange,
  type SeriesSelector,
  searchSeries,
  seriesRange,
} from '../projections/metric-series/queries.js';
import { limitOf } from './arguments.js';
import { builder, Label, labelList } from './builder.js';
import { badInput } from './errors.js';

/** Series queries: search, label names and values, ranges, aggregation across series, correlation. */

/** A query-layer validation error as the API says it: the field and the reason. */
export async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const issue = error instanceof ValidationError ? error.issues[0] : undefined;
    if (issue) throw badInput(issue.path, issue.message);
    throw error;
  }
}

const finite = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

const LabelMatchOp = builder.enumType('LabelMatchOp', {
  values: {
    EQ: { value: 'eq', description: 'The label equals the value (a series without the label has it as "").' },
    NEQ: { value: 'neq', description: 'The label differs from the value.' },
    REGEX: { value: 'regex', description: 'The whole label value matches the RE2 regular expression.' },
    NOT_REGEX: { value: 'notRegex', description: 'The whole label value does not match it.' },
  } as const,
});

const LabelMatcherInput = builder.inputType('LabelMatcherInput', {
  fields: (t) => ({
    label: t.string({ required: true }),
    op: t.field({ type: LabelMatchOp, defaultValue: 'eq' as MatchOp, required: true }),
    value: t.string({ required: true }),
  }),
});

export const SeriesSelectorInput = builder.inputType('SeriesSelector', {
  description: 'Which series: every condition given must hold (none given: all series).',
  fields: (t) => ({
    seriesIds: t.stringList({ description: 'Series ids (decimal).' }),
    name: t.string({ description: 'The metric name, exactly.' }),
    matchers: t.field({ type: [LabelMatcherInput] }),
    text: t.string({ description: 'A case-insensitive substring of the name or of any label value.' }),
  }),
});

type SelectorArg = {
  seriesIds?: string[] | null;
  name?: string | null;
  matchers?: { label: string; op: MatchOp; value: string }[] | null;
  text?: string | null;
} | null;

/** A `SeriesSelector` argument as the series queries take it. */
export const selectorOf = (s: SelectorArg | undefined): SeriesSelector => ({
  ...(s?.seriesIds ? { seriesIds: s.seriesIds } : {}),
  ...(s?.name != null ? { name: s.name } : {}),
  ...(s?.matchers ? { matchers: s.matchers } : {}),
  ...(s?.text != null ? { text: s.text } : {}),
});

const SeriesFunctionEnum = builder.enumType('SeriesFunction', {
  values: Object.fromEntries(SERIES_FUNCTIONS.map((fn) => [fn.toUpperCase(), { value: fn }])) as Record<
    Uppercase<SeriesFunction>,
    { value: SeriesFunction }
  >,
});

const Series = builder.objectRef<SeriesInfo>('Series').implement({
  description: 'A series of the catalogue.',
  fields: (t) => ({
    id: t.exposeString('seriesId', { description: 'The series id (decimal).' }),
    name: t.exposeString('name'),
    family: t.exposeString('family', { description: 'The metric it belongs to (`h` for `h_bucket`).' }),
    kind: t.exposeString('kind'),
    role: t.exposeString('role'),
    unit: t.exposeString('unit'),
    labels: t.field({ type: [Label], resolve: (s) => labelList(s.labels) }),
  }),
});

const SeriesPoint = builder.objectRef<Point>('SeriesPoint').implement({
  fields: (t) => ({
    ts: t.field({ type: 'DateTime', resolve: (p) => p.ts }),
    value: t.exposeFloat('value'),
  }),
});

const SeriesBucketRef = builder.objectRef<SeriesBucket>('SeriesBucket').implement({
  description:
    'The samples of `[ts, ts + stepMs)` that lie inside the range asked for. count, sum, min, max, avg and rate are exact; quantiles are exact when `fromRollups` is false, else from merged digests.',
  fields: (t) => ({
    ts: t.field({
      type: 'DateTime',
      description: 'Start of the bucket: a multiple of the step.',
      resolve: (b) => b.ts,
    }),
    count: t.exposeFloat('count', { description: 'A whole number (a Float: it may pass 2^31).' }),
    sum: t.exposeFloat('sum'),
    min: t.exposeFloat('min'),
    max: t.exposeFloat('max'),
    avg: t.exposeFloat('avg'),
    p50: t.float({ nullable: true, description: 'When P50 is asked for.', resolve: (b) => finite(b.p50) }),
    p90: t.float({ nullable: true, description: 'When P90 is asked for.', resolve: (b) => finite(b.p90) }),
    p99: t.float({ nullable: true, description: 'When P99 is asked for.', resolve: (b) => finite(b.p99) }),
    rate: t.float({
      nullable: true,
      description: 'Per-second increase, counter resets handled (when RATE is asked for).',
      resolve: (b) => finite(b.rate),
    }),
    fromRollups: t.exposeBoolean('fromRollups', {
      description: 'Rollups served part of the bucket: its quantiles come from merged digests.',
    }),
  }),
});

const SeriesRangeRef = builder.objectRef<SeriesRange>('SeriesRange').implement({
  description: 'One series over the range: its raw samples (no step) or its buckets (with a step).',
  fields: (t) => ({
    series: t.field({ type: Series, resolve: (r) => r.series }),
    points: t.field({ type: [SeriesPoint], nullable: true, resolve: (r) => r.points && [...r.points] }),
    buckets: t.field({
      type: [SeriesBucketRef],
      nullable: true,
      resolve: (r) => r.buckets && [...r.buckets],
    }),
  }),
});

const SeriesGroup = builder.objectRef<AggregateGroup>('SeriesGroup').implement({
  description: 'One group of series (by the labels grouped by) and its value over the range.',
  fields: (t) => ({
    labels: t.field({ type: [Label], resolve: (g) => labelList(g.labels) }),
    value: t.exposeFloat('value'),
    series: t.exposeInt('series', { description: 'How many series the selector put in the group.' }),
    fromRollups: t.exposeBoolean('fromRollups', {
      description: 'Rollups served part of the range: a quantile then comes from merged digests.',
    }),
  }),
});

const LagCorrelationRef = builder.objectRef<LagCorrelation & { stepMs: number }>('LagCorrelation').implement({
  fields: (t) => ({
    lag: t.exposeInt('lag', {
      description: "In steps: a's bucket t is paired with b's bucket t + lag·step (positive: b follows a).",
    }),
    lagMs: t.float({ resolve: (c) => c.lag * c.stepMs }),
    pearson: t.float({
      nullable: true,
      description: "Pearson's r over the paired buckets; null with fewer than 3 of them or no variance.",
      resolve: (c) => finite(c.pearson),
    }),
    buckets: t.exposeInt('buckets', { description: 'How many bucket pairs both series have.' }),
  }),
});

const SeriesCorrelationRef = builder
  .objectRef<SeriesCorrelation & { stepMs: number }>('SeriesCorrelation')
  .implement({
    fields: (t) => ({
      series: t.field({ type: Series, description: 'The series compared with a.', resolve: (c) => c.series }),
      best: t.field({
        type: LagCorrelationRef,
        nullable: true,
        description: 'The lag with the largest |r| (on a tie the smallest |lag|); null when none is defined.',
        resolve: (c) => (c.best ? { ...c.best, stepMs: c.stepMs } : null),
      }),
      lags: t.field({
        type: [LagCorrelationRef],
        resolve: (c) => c.lags.map((l) => ({ ...l, stepMs: c.stepMs })),
      }),
    }),
  });

/** Series per page of `series`: default and most. */
const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;

function pageSizeOf(field: string, size: number | null | undefined): number {
  if (size == null) return PAGE_DEFAULT;
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX)
    throw badInput(field, `must be an integer from 1 to ${PAGE_MAX}, got ${size}`);
  return size;
}

function pointLimitOf(limit: number | null | undefined): number {
  if (limit == null) return DEFAULT_POINT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_POINT_LIMIT)
    throw badInput('limit', `must be an integer from 1 to ${MAX_POINT_LIMIT}, got ${limit}`);
  return limit;
}

const POINT_LIMIT = `At most this many points in all (default ${DEFAULT_POINT_LIMIT.toLocaleString('en')}, at most ${MAX_POINT_LIMIT.toLocaleString('en')}); a larger answer is an error naming \`limit\`, never cut short.`;

builder.queryFields((t) => ({
  series: t.connection(
    {
      type: Series,
      description: `Series of the catalogue the selector names, in series id order (the cursor is the id). Pages of ${PAGE_DEFAULT} by default, at most ${PAGE_MAX}.`,
      args: { selector: t.arg({ type: SeriesSelectorInput }) },
      resolve: (_root, args, ctx) =>
        answer(async () => {
          if (args.first != null && args.last != null) throw badInput('last', 'give first or last, not both');
          const backwards = args.last != null || (args.before != null && args.first == null);
          const size = backwards ? pageSizeOf('last', args.last) : pageSizeOf('first', args.first);
          const rows = await searchSeries(ctx.analytics, selectorOf(args.selector), {
            ...(args.after != null ? { after: args.after } : {}),
            ...(args.before != null ? { before: args.before } : {}),
            limit: size + 1,
            inverted: backwards,
          });
          const more = rows.length > size;
          const page = rows.slice(0, size);
          if (backwards) page.reverse();
          const edges = page.map((node) => ({ cursor: node.seriesId, node }));
          return {
            edges,
            pageInfo: {
              hasNextPage: backwards ? args.before != null : more,
              hasPreviousPage: backwards ? more : args.after != null,
              startCursor: edges[0]?.cursor ?? null,
              endCursor: edges.at(-1)?.cursor ?? null,
            },
          };
        }),
    },
    { name: 'SeriesConnection' },
    { name: 'SeriesEdge' },
  ),
  labelNames: t.stringList({
    description:
      'The label names the selected series have, sorted. More than `limit` (default 1,000, at most 10,000) is an error.',
    args: { selector: t.arg({ type: SeriesSelectorInput }), limit: t.arg.int() },
    resolve: (_root, args, ctx) =>
      answer(() => labelNames(ctx.analytics, selectorOf(args.selector), limitOf(args.limit))),
  }),
  labelValues: t.stringList({
    description:
      'The values a label takes on the selected series that have it, sorted. More than `limit` (default 1,000, at most 10,000) is an error.',
    args: {
      label: t.arg.string({ required: true }),
      selector: t.arg({ type: SeriesSelectorInput }),
      limit: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      answer(() => labelValues(ctx.analytics, args.label, selectorOf(args.selector), limitOf(args.limit))),
  }),
  seriesRange: t.field({
    type: [SeriesRangeRef],
    description:
      'The selected series over [from, to): raw samples, or with `stepMs` buckets [t, t + stepMs) aligned to multiples of the step, each holding only samples inside the range. Series without a sample in the range are left out.',
    args: {
      selector: t.arg({ type: SeriesSelectorInput, required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      stepMs: t.arg.int({ description: 'Bucket width in milliseconds; none: the raw samples.' }),
      functions: t.arg({
        type: [SeriesFunctionEnum],
        description: 'count, sum, min, max and avg always come; p50, p90, p99 and rate when listed.',
      }),
      limit: t.arg.int({ description: POINT_LIMIT }),
    },
    resolve: (_root, args, ctx) =>
      answer(() =>
        seriesRange(ctx.analytics, {
          selector: selectorOf(args.selector),
          from: args.from,
          to: args.to,
          stepMs: args.stepMs ?? null,
          functions: args.functions ?? [],
          limit: pointLimitOf(args.limit),
        }),
      ),
  }),
  seriesAggregate: t.field({
    type: [SeriesGroup],
    description:
      "One value per group of the selected series over [from, to): `fn` over all the samples of the group (for RATE, the sum of its series' rates). Groups without samples are left out. By label values, or the `topK` highest / `bottomK` lowest.",
    args: {
      selector: t.arg({ type: SeriesSelectorInput, required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      fn: t.arg({ type: SeriesFunctionEnum, required: true }),
      groupBy: t.arg.stringList({ description: 'Label names (none: one group of all).' }),
      topK: t.arg.int(),
      bottomK: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      answer(() =>
        aggregate(ctx.analytics, {
          ...selectorOf(args.selector),
          from: new Date(args.from),
          to: new Date(args.to),
          fn: args.fn,
          groupBy: args.groupBy ?? [],
          ...(args.topK != null ? { topK: args.topK } : {}),
          ...(args.bottomK != null ? { bottomK: args.bottomK } : {}),
        }),
      ),
  }),
  seriesCorrelation: t.field({
    type: [SeriesCorrelationRef],
    description:
      "How series `a` (exactly one) correlates with each series `b` selects (a itself left out), at each lag from `minLag` to `maxLag` steps (default 0; |lag| at most 1,000, at most 201 lags): both averaged into buckets of `stepMs`, Pearson's r over the bucket pairs. Strongest first.",
    args: {
      a: t.arg({ type: SeriesSelectorInput, required: true }),
      b: t.arg({ type: SeriesSelectorInput, required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      stepMs: t.arg.int({ required: true }),
      minLag: t.arg.int(),
      maxLag: t.arg.int(),
      limit: t.arg.int({
        description: `At most this many buckets (in the range, times the series) (default ${DEFAULT_POINT_LIMIT.toLocaleString('en')}, at most ${MAX_POINT_LIMIT.toLocaleString('en')}).`,
      }),
    },
    resolve: (_root, args, ctx) =>
      answer(async () => {
        const { results } = await correlate(ctx.analytics, {
          a: selectorOf(args.a),
          b: selectorOf(args.b),
          from: args.from,
          to: args.to,
          stepMs: args.stepMs,
          ...(args.minLag != null ? { minLag: args.minLag } : {}),
          ...(args.maxLag != null ? { maxLag: args.maxLag } : {}),
          limit: pointLimitOf(args.limit),
        });
        return results.map((r) => ({ ...r, stepMs: args.stepMs }));
      }),
  }),
}));
