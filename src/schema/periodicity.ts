import { type Fact, readFactOf } from '../domain/facts.js';
import { flattenPeriodicity, PERIODICITY_EVENT_TYPES } from '../domain/pipeline/findings.js';
import { findPeriodicity, type PeriodicityRow } from '../projections/pipeline-findings/queries.js';
import type { Position } from '../stores/event-store/port.js';
import { findingsArgs, findingsConnection, findingsQuery } from './arguments.js';
import { builder } from './builder.js';
import { tailLog } from './log-tail.js';

type PeriodicityShape = PeriodicityRow & { readonly position: Position | null };

const Periodicity = builder.objectRef<PeriodicityShape>('PeriodicityChange').implement({
  description:
    "A change in a series' periodicity: seasonality found, moved or lost, dominant frequencies changed, or anomalies recurring at an interval. Fields a kind of change does not have are null.",
  fields: (t) => ({
    pipelineId: t.exposeString('pipelineId'),
    seriesId: t.exposeString('seriesId'),
    ts: t.field({ type: 'DateTime', resolve: (p) => p.ts }),
    finding: t.exposeString('finding', {
      description: 'seasonalityDetected | seasonalityLost | frequenciesChanged | recurringAnomalyDetected',
    }),
    period: t.float({
      nullable: true,
      description: 'Samples per season (seasonalityDetected).',
      resolve: (p) => (p.finding === 'seasonalityDetected' ? p.period : null),
    }),
    periodMs: t.float({ nullable: true, resolve: (p) => p.periodMs }),
    strength: t.float({
      nullable: true,
      description: 'The autocorrelation at the period.',
      resolve: (p) => (p.finding === 'seasonalityDetected' ? p.strength : null),
    }),
    previousPeriod: t.float({ nullable: true, resolve: (p) => p.previousPeriod }),
    frequencies: t.floatList({
      description: 'Dominant frequencies in cycles per sample, strongest first (frequenciesChanged).',
      resolve: (p) => p.frequencies,
    }),
    powers: t.floatList({ description: "Each frequency's share of the power.", resolve: (p) => p.powers }),
    intervalMs: t.float({
      nullable: true,
      description: 'How far apart the anomalies recur (recurringAnomalyDetected).',
      resolve: (p) => (p.finding === 'recurringAnomalyDetected' ? p.intervalMs : null),
    }),
    occurrences: t.int({
      nullable: true,
      resolve: (p) => (p.finding === 'recurringAnomalyDetected' ? p.occurrences : null),
    }),
    position: t.field({ type: 'Position', nullable: true, resolve: (p) => p.position }),
  }),
});

/** A periodicity fact flattened as the table keeps it (the fields a kind of change lacks are 0, empty or null). */
function periodicityShape(fact: Extract<Fact, { type: (typeof PERIODICITY_EVENT_TYPES)[number] }>) {
  return { seriesId: fact.data.seriesId, ts: fact.data.ts, ...flattenPeriodicity(fact) };
}

builder.queryFields((t) => ({
  periodicity: t.connection({
    type: Periodicity,
    description: "Periodicity changes whose sample's time is in [from, to), oldest first.",
    args: findingsArgs(t),
    resolve: (_root, args, ctx) => {
      const query = findingsQuery(args);
      return findingsConnection(args, (page) => findPeriodicity(ctx.analytics, { ...query, ...page }));
    },
  }),
}));

builder.subscriptionFields((t) => ({
  periodicityChanged: t.field({
    type: Periodicity,
    description: 'Periodicity changes as they are recorded in the log; resume with `after`.',
    args: { pipelineId: t.arg.string(), seriesId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      tailLog<PeriodicityShape>(ctx.logHub, {
        after: args.after,
        filter: { categories: ['findings'], eventTypes: [...PERIODICITY_EVENT_TYPES] },
        map: (event) => {
          const change = periodicityShape(readFactOf(event, ...PERIODICITY_EVENT_TYPES));
          const pipelineId = event.streamId.slice('findings-'.length);
          if (
            (args.pipelineId && pipelineId !== args.pipelineId) ||
            (args.seriesId && change.seriesId !== args.seriesId)
          )
            return [];
          return [{ ...change, pipelineId, finding: event.type, position: event.position }];
        },
      }),
    resolve: (p) => p,
  }),
}));
