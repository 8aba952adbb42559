import { resolveArrayConnection } from '@pothos/plugin-relay';
import { AttachmentId, type LivePrediction, type PredictionsMade } from '../domain/model/predictions.js';
import { idsOf } from '../projections/metric-series/range.js';
import { findPredictions, type PredictionRow } from '../projections/predictions/index.js';
import type { Attachment } from '../scoring/scorers.js';
import type { Position } from '../stores/event-store/port.js';
import { findingsConnection, rangeOf } from './arguments.js';
import { builder } from './builder.js';
import { MUTATION_ERRORS } from './error-types.js';
import { badInput } from './errors.js';
import { factFeed } from './log-tail.js';
import { answer, SeriesSelectorInput, selectorOf } from './series.js';

/**
 * Live predictions: models attached to live series (admin), their predictions as recorded
 * (`predictionsMade` in `predictions-<attachmentId>`), stored in the `predictions` table, and live.
 */

const AttachmentRef = builder.objectRef<Attachment>('ModelAttachment').implement({
  description: 'A model attached to live series (`modelAttached` in `scorers-main`).',
  fields: (t) => ({
    id: t.exposeString('id'),
    modelId: t.exposeString('modelId'),
    seriesIds: t.stringList({
      description: 'The input series, one feature column each; the first drives scoring.',
      resolve: (a) => [...a.seriesIds],
    }),
    every: t.float({
      nullable: true,
      description: 'Least ms between two scored samples.',
      resolve: (a) => a.every,
    }),
    attachedBy: t.string({ resolve: (a) => a.by }),
    attachedAt: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    detachedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.detached?.at ?? null }),
    position: t.field({ type: 'Position', resolve: (a) => a.position }),
  }),
});

const AttachModelInput = builder.inputType('AttachModelInput', {
  fields: (t) => ({
    id: t.string({ required: true, description: 'Lower-case letters, digits, _ and -.' }),
    modelId: t.string({ required: true }),
    selector: t.field({
      type: SeriesSelectorInput,
      required: true,
      description:
        "The input series, one feature column each in the model's feature order (`seriesIds` keeps the given order; otherwise by series id); the first drives scoring.",
    }),
    every: t.float({ description: 'Least ms between two scored samples of the first series.' }),
  }),
});

const PredictionType = builder.objectRef<LivePrediction>('LivePrediction').implement({
  fields: (t) => ({
    ts: t.field({ type: 'DateTime', resolve: (p) => p.ts }),
    seriesId: t.exposeString('seriesId'),
    value: t.exposeFloat('value'),
  }),
});

type MadeShape = PredictionsMade & { position: Position };
const PredictionsMadeType = builder.objectRef<MadeShape>('PredictionsMade').implement({
  description: "An attachment's predictions for one source batch (`predictionsMade`).",
  fields: (t) => ({
    attachmentId: t.exposeString('attachmentId'),
    modelId: t.exposeString('modelId'),
    version: t.exposeInt('version'),
    predictions: t.field({ type: [PredictionType], resolve: (f) => f.predictions }),
    position: t.field({ type: 'Position', resolve: (f) => f.position }),
  }),
});

const StoredPrediction = builder.objectRef<PredictionRow>('StoredPrediction').implement({
  description: 'One live prediction, from the `predictions` table.',
  fields: (t) => ({
    attachmentId: t.exposeString('attachmentId'),
    modelId: t.exposeString('modelId'),
    version: t.exposeInt('version'),
    seriesId: t.exposeString('seriesId'),
    ts: t.field({ type: 'DateTime', resolve: (r) => r.ts }),
    value: t.exposeFloat('value'),
  }),
});

builder.queryFields((t) => ({
  modelAttachments: t.connection({
    type: AttachmentRef,
    description: 'Models attached to live series, in the order attached (detached ones only when asked).',
    args: { includeDetached: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) =>
      resolveArrayConnection(
        { args },
        (await ctx.scorers.list()).filter((a) => args.includeDetached || !a.detached),
      ),
  }),
  predictions: t.connection({
    type: StoredPrediction,
    description:
      'Live predictions for times in [from, to) of an attachment or a model, by attachment and time.',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      attachmentId: t.arg.string(),
      modelId: t.arg.string(),
    },
    resolve: (_root, args, ctx) => {
      if (!args.attachmentId && !args.modelId) throw badInput('attachmentId', 'give attachmentId or modelId');
      const query = {
        ...rangeOf(args.from, args.to),
        ...(args.attachmentId ? { attachmentId: args.attachmentId } : {}),
        ...(args.modelId ? { modelId: args.modelId } : {}),
      };
      return findingsConnection(args, (page) => findPredictions(ctx.analytics, { ...query, ...page }));
    },
  }),
}));

builder.mutationFields((t) => ({
  attachModel: t.field({
    type: AttachmentRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description:
      "Attaches a model to live series (`modelAttached`): from now on each new sample of the first series is scored with the model's deployed version, using the latest value of each input series as of its time.",
    args: { input: t.arg({ type: AttachModelInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = AttachmentId.safeParse(input.id);
      if (!id.success) throw badInput('input.id', id.error.issues[0]!.message);
      if (input.every != null && !(Number.isInteger(input.every) && input.every >= 1))
        throw badInput('input.every', 'must be a positive whole number of milliseconds');
      const model = await ctx.models.get(input.modelId);
      if (!model.context.spec) throw badInput('input.modelId', `model ${input.modelId} is not registered`);
      const seriesIds = await answer(() => idsOf(ctx.analytics, selectorOf(input.selector)));
      const ordered = input.selector.seriesIds
        ? [...input.selector.seriesIds]
        : [...seriesIds].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      if (!ordered.length) throw badInput('input.selector', 'selects no series');
      const deployed = model.context.deployedVersion;
      const version = model.context.versions.find((v) => v.version === deployed);
      if (version && version.featureNames.length !== ordered.length)
        throw badInput(
          'input.selector',
          `selects ${ordered.length} series; the deployed version takes ${version.featureNames.length} features (${version.featureNames.join(', ')})`,
        );
      await ctx.models.warm(input.modelId);
      return ctx.scorers.attach(
        { id: id.data, modelId: input.modelId, seriesIds: ordered, every: input.every ?? null },
        ctx.caller.id,
      );
    },
  }),
  detachModel: t.field({
    type: AttachmentRef,
    authScopes: { admin: true },
    errors: { types: MUTATION_ERRORS },
    description: 'Stops scoring (`modelDetached`); its predictions stay.',
    args: { id: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.scorers.detach(args.id, ctx.caller.id),
  }),
}));

builder.subscriptionFields((t) => ({
  predictionMade: t.field({
    type: PredictionsMadeType,
    description: 'Live predictions as they are recorded (one item per source batch); resume with `after`.',
    args: { attachmentId: t.arg.string(), after: t.arg({ type: 'Position' }) },
    subscribe: (_root, args, ctx) =>
      factFeed(ctx.logHub, {
        after: args.after,
        category: 'predictions',
        type: 'predictionsMade',
        keep: (data) => !args.attachmentId || data.attachmentId === args.attachmentId,
      }),
    resolve: (p) => p,
  }),
}));
