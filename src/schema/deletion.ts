import { MAX_DELETED_SERIES } from '../domain/retention/facts.js';
import { resolveSeries } from '../projections/metric-series/selector.js';
import { builder } from './builder.js';
import { invalid } from './configuration/shared.js';
import { MUTATION_ERRORS } from './error-types.js';
import { SeriesSelectorInput, selectorOf } from './series.js';

const Removed = builder.objectRef<{ table: string; removed: number }>('TableRowsRemoved').implement({
  fields: (t) => ({ table: t.exposeString('table'), removed: t.exposeInt('removed') }),
});

const Deletion = builder
  .objectRef<{
    seriesIds: readonly string[];
    position: bigint;
    tables: readonly { table: string; removed: number }[];
  }>('SeriesDeletion')
  .implement({
    description: 'What a deletion of series removed, and the log position of its request.',
    fields: (t) => ({
      seriesIds: t.stringList({ resolve: (d) => [...d.seriesIds] }),
      position: t.field({ type: 'Position', resolve: (d) => d.position }),
      tables: t.field({ type: [Removed], resolve: (d) => [...d.tables] }),
    }),
  });

builder.mutationFields((t) => ({
  deleteSeries: t.field({
    type: Deletion,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: `Deletes the selected series (at most ${MAX_DELETED_SERIES}): their samples, rollups, findings, alerts, predictions and forecasts, recorded with who asked (seriesDeletionRequested, then seriesDeleted with what went).`,
    args: {
      selector: t.arg({ type: SeriesSelectorInput, required: true }),
      reason: t.arg.string({ description: 'Why (recorded with the request).' }),
    },
    resolve: async (_root, args, ctx) => {
      const found = await resolveSeries(
        ctx.analytics,
        selectorOf(args.selector),
        'selector',
        MAX_DELETED_SERIES,
      );
      if (!found.length) throw invalid('selector', 'selects no series');
      return ctx.deleteSeries(
        found.map((s) => s.seriesId),
        ctx.caller.id,
        args.reason ?? null,
      );
    },
  }),
}));
