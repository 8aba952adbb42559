import { resolveArrayConnection } from '@pothos/plugin-relay';
import type { PipelineView } from '../../configuration/pipelines.js';
import { PipelineDefinition } from '../../domain/pipeline/definition.js';
import { builder } from '../builder.js';
import { MUTATION_ERRORS } from '../error-types.js';
import { JSONObject } from '../json.js';
import { entryFields, invalid, parseInput } from './shared.js';

type SeriesState = NonNullable<NonNullable<PipelineView['runtime']>['series']>;

const PipelineSeries = builder.objectRef<SeriesState>('PipelineSeries').implement({
  description:
    "A running pipeline's per-series analytics state on this instance: what is in memory, what idle series were evicted to the checkpoint store.",
  fields: (t) => ({
    inMemory: t.exposeInt('inMemory', { description: 'Series whose analytics state is in memory.' }),
    evicted: t.exposeInt('evicted', {
      description: 'Idle series whose state is only in the checkpoint store (read back when they return).',
    }),
    evictions: t.exposeInt('evictions', { description: 'Series evicted since this instance started.' }),
    restoredOnDemand: t.exposeInt('restoredOnDemand', {
      description: 'Evicted series read back because their samples came, since this instance started.',
    }),
    bankRows: t.exposeInt('bankRows', {
      description:
        'Rows of sliding windows, trends and shapes in memory: held by series in memory, or freed by evicted ones for the next.',
    }),
  }),
});

const Pipeline = builder.objectRef<PipelineView>('Pipeline').implement({
  description:
    'A streaming pipeline as configured (its facts in `pipeline-<id>`), and how its consumer runs on this instance.',
  fields: (t) => ({
    id: t.exposeString('id'),
    ...entryFields(t, (p) => p.config),
    state: t.exposeString('state', {
      description: 'Its lifecycle: defined | running | stopped | paused | deleted.',
    }),
    running: t.boolean({
      description: 'Whether its consumer runs on this instance now.',
      resolve: (p) => p.runtime !== null && p.runtime.state !== 'stopped',
    }),
    processedPosition: t.field({
      type: 'Position',
      nullable: true,
      description: 'The last source batch it analysed (while it runs here).',
      resolve: (p) => p.runtime?.processedPosition ?? null,
    }),
    checkpointPosition: t.field({
      type: 'Position',
      nullable: true,
      description: 'Where it goes on from after a restart, a pause or an update.',
      resolve: (p) => p.runtime?.checkpointPosition ?? null,
    }),
    series: t.field({
      type: PipelineSeries,
      nullable: true,
      description: 'Its per-series analytics state (while it runs here, with an analytics section).',
      resolve: (p) => p.runtime?.series ?? null,
    }),
  }),
});

/** A pipeline definition from its JSON; for an update, its id is the one named (and may be left out). */
function definitionOf(value: Record<string, unknown>, id?: string): PipelineDefinition {
  if (id !== undefined && value.id !== undefined && value.id !== id)
    throw invalid('definition.id', `must be the pipeline's id '${id}' (or be left out)`);
  return parseInput(PipelineDefinition, id === undefined ? value : { ...value, id }, 'definition');
}

builder.queryFields((t) => ({
  pipelines: t.connection({
    type: Pipeline,
    description: 'The configured pipelines, by id (deleted ones only when asked).',
    args: { includeDeleted: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection(
        { args },
        (await ctx.configuration.pipelines.list()).filter(
          (p) => args.includeDeleted || p.config.status !== 'deleted',
        ),
      ),
  }),
  pipeline: t.field({
    type: Pipeline,
    nullable: true,
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.configuration.pipelines.get(args.id),
  }),
}));

builder.mutationFields((t) => ({
  createPipeline: t.field({
    type: Pipeline,
    errors: { types: MUTATION_ERRORS },
    description:
      'Creates a pipeline (recorded as `pipelineDefined`) and starts it: it analyses what arrives after its definition.',
    args: {
      definition: t.arg({
        type: JSONObject,
        required: true,
        description: 'The whole definition, as in PIPELINES_FILE (docs/pipelines.md).',
      }),
    },
    resolve: (_root, args, ctx) => {
      const definition = definitionOf(args.definition);
      return ctx.configuration.pipelines.change(
        definition.id,
        { type: 'create', definition },
        { by: ctx.caller.id },
      );
    },
  }),
  updatePipeline: t.field({
    type: Pipeline,
    errors: { types: MUTATION_ERRORS },
    description:
      "Replaces a pipeline's definition (recorded as `pipelineUpdated`, naming the fields that changed); a running pipeline restarts with it from its checkpoint.",
    args: {
      id: t.arg.string({ required: true }),
      definition: t.arg({ type: JSONObject, required: true, description: 'The whole new definition.' }),
    },
    resolve: (_root, args, ctx) =>
      ctx.configuration.pipelines.change(
        args.id,
        { type: 'update', definition: definitionOf(args.definition, args.id) },
        { by: ctx.caller.id },
      ),
  }),
  pausePipeline: t.field({
    type: Pipeline,
    errors: { types: MUTATION_ERRORS },
    description: 'Stops analysing (after a final checkpoint) until resumed; recorded as `pipelinePaused`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.configuration.pipelines.change(args.id, { type: 'pause' }, { by: ctx.caller.id }),
  }),
  resumePipeline: t.field({
    type: Pipeline,
    errors: { types: MUTATION_ERRORS },
    description: 'Analyses again from the checkpoint it paused at; recorded as `pipelineResumed`.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.configuration.pipelines.change(args.id, { type: 'resume' }, { by: ctx.caller.id }),
  }),
  deletePipeline: t.field({
    type: Pipeline,
    errors: { types: MUTATION_ERRORS },
    description:
      'Stops a pipeline for good (recorded as `pipelineDeleted`); its history and outputs stay, and it can be created again.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.configuration.pipelines.change(args.id, { type: 'delete' }, { by: ctx.caller.id }),
  }),
}));
