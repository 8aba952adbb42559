import { resolveOffsetConnection } from '@pothos/plugin-relay';
import type { builder } from './builder.js';
import { badInput } from './errors.js';

/** A query's `limit`: default 1,000, at most 10,000. */
export function limitOf(limit: number | null | undefined): number {
  if (limit === null || limit === undefined) return 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw badInput('limit', `must be an integer from 1 to 10000, got ${limit}`);
  return limit;
}

/** A series id argument: the decimal UInt64 the series tables use. */
export function seriesIdArg(seriesId: string | null | undefined): string | undefined {
  if (seriesId === null || seriesId === undefined) return undefined;
  if (!/^\d{1,20}$/.test(seriesId))
    throw badInput('seriesId', `must be a decimal series id, got ${JSON.stringify(seriesId)}`);
  return seriesId;
}

/** A time range argument pair: `from` before `to`. */
export function rangeOf(from: number, to: number): { from: Date; to: Date } {
  if (!(from < to)) throw badInput('to', 'must be after from');
  return { from: new Date(from), to: new Date(to) };
}

type QueryFieldBuilder = Parameters<Parameters<typeof builder.queryFields>[0]>[0];

/** The arguments every findings query takes: a time range, a series or pipeline (pages: `first`/`after`). */
export const findingsArgs = (t: QueryFieldBuilder) => ({
  from: t.arg({ type: 'DateTime', required: true }),
  to: t.arg({ type: 'DateTime', required: true }),
  seriesId: t.arg.string(),
  pipelineId: t.arg.string(),
});

/** Those arguments checked, as the findings queries take them. */
export function findingsQuery(args: {
  from: number;
  to: number;
  seriesId?: string | null;
  pipelineId?: string | null;
}) {
  return {
    ...rangeOf(args.from, args.to),
    seriesId: seriesIdArg(args.seriesId),
    pipelineId: args.pipelineId ?? undefined,
  };
}

/**
 * A findings table read as a Relay connection: oldest first, pages of 100 by default and at most
 * 10,000, each page one query with a limit and an offset.
 */
export function findingsConnection<Row>(
  args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null },
  page: (window: { limit: number; offset: number }) => Promise<readonly Row[]>,
) {
  return resolveOffsetConnection({ args, defaultSize: 100, maxSize: 10_000 }, async (window) =>
    fromTable(await page(window)),
  );
}

/** Rows from a findings table as the API shows them: they have no log position (live facts do). */
export const fromTable = <Row>(rows: readonly Row[]): (Row & { position: null })[] =>
  rows.map((row) => ({ ...row, position: null }));

/** A `minScore` argument: anomaly scores run from 0 to 1. */
export function minScoreOf(minScore: number | null | undefined): number | undefined {
  if (minScore === null || minScore === undefined) return undefined;
  if (!(minScore >= 0 && minScore <= 1)) throw badInput('minScore', `must be from 0 to 1, got ${minScore}`);
  return minScore;
}
