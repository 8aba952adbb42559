import { resolveArrayConnection } from '@pothos/plugin-relay';
import type { ConfigEntry } from '../../domain/configuration/entry.js';
import { ScrapeTargetDefinition } from '../../domain/configuration/scrape-targets.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { MUTATION_ERRORS } from '../error-types.js';
import { defined, entryFields, parseInput, visible } from './shared.js';

const ScrapeTarget = builder.objectRef<ConfigEntry<ScrapeTargetDefinition>>('ScrapeTarget').implement({
  description:
    'A Prometheus endpoint scraped by the agent `scrape-<name>`, as its facts leave it (`scrapeconfig-main`).',
  fields: (t) => ({
    name: t.string({ resolve: (e) => e.id }),
    url: t.string({ resolve: (e) => e.definition.url }),
    intervalMs: t.int({
      nullable: true,
      description: 'Its own interval; null: SCRAPE_INTERVAL_MS.',
      resolve: (e) => e.definition.intervalMs ?? null,
    }),
    timeoutMs: t.int({ nullable: true, resolve: (e) => e.definition.timeoutMs ?? null }),
    ...entryFields(t, (e) => e),
  }),
});

const ScrapeTargetInput = builder.inputType('ScrapeTargetInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Lower-case letters, digits and _; labels its samples `scrape_target`.',
    }),
    url: t.string({ required: true, description: 'An http(s) URL serving the Prometheus text format.' }),
    intervalMs: t.int({ description: 'Default: SCRAPE_INTERVAL_MS.' }),
    timeoutMs: t.int({ description: 'Default: 10,000.' }),
  }),
});

const targetOf = (input: typeof ScrapeTargetInput.$inferInput) =>
  parseInput(ScrapeTargetDefinition, defined({ ...input }), 'input');

const targets = (ctx: GraphQLContext) => ctx.configuration.scrapeTargets;
const by = (ctx: GraphQLContext) => ({ by: ctx.caller.id });

builder.queryFields((t) => ({
  scrapeTargets: t.connection({
    type: ScrapeTarget,
    description: 'The scrape targets, in the order they were defined (deleted ones only when asked).',
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection({ args }, visible(await targets(ctx).list(), args.includeDeleted)),
  }),
}));

builder.mutationFields((t) => ({
  createScrapeTarget: t.field({
    type: ScrapeTarget,
    errors: { types: MUTATION_ERRORS },
    description: 'Adds a target (recorded as `scrapeTargetDefined`) and starts scraping it.',
    args: { input: t.arg({ type: ScrapeTargetInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const target = targetOf(input);
      return targets(ctx).change(target.name, { type: 'create', definition: target }, by(ctx));
    },
  }),
  updateScrapeTarget: t.field({
    type: ScrapeTarget,
    errors: { types: MUTATION_ERRORS },
    description:
      'Replaces a target (recorded as `scrapeTargetUpdated`, naming the fields that changed); its agent restarts with it.',
    args: { input: t.arg({ type: ScrapeTargetInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const target = targetOf(input);
      return targets(ctx).change(target.name, { type: 'update', definition: target }, by(ctx));
    },
  }),
  pauseScrapeTarget: t.field({
    type: ScrapeTarget,
    errors: { types: MUTATION_ERRORS },
    description:
      'Stops scraping until resumed (its agent flushes and stops); recorded as `scrapeTargetPaused`.',
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => targets(ctx).change(args.name, { type: 'pause' }, by(ctx)),
  }),
  resumeScrapeTarget: t.field({
    type: ScrapeTarget,
    errors: { types: MUTATION_ERRORS },
    description: 'Scrapes a paused target again; recorded as `scrapeTargetResumed`.',
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => targets(ctx).change(args.name, { type: 'resume' }, by(ctx)),
  }),
  deleteScrapeTarget: t.field({
    type: ScrapeTarget,
    errors: { types: MUTATION_ERRORS },
    description: 'Stops scraping for good (its history stays); recorded as `scrapeTargetDeleted`.',
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => targets(ctx).change(args.name, { type: 'delete' }, by(ctx)),
  }),
}));
