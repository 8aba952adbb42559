import type { ProjectionRebuild } from '../../configuration/projections.js';
import type { ProjectionStatus } from '../../projections/runner.js';
import { builder } from '../builder.js';
import { MUTATION_ERRORS } from '../error-types.js';

const Projection = builder.objectRef<ProjectionStatus>('ProjectionStatus').implement({
  description: 'A read model fed from the log, and how far it has written it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    state: t.exposeString('state', { description: 'stopped | catchingUp | live | retrying | halted' }),
    checkpoint: t.field({
      type: 'Position',
      nullable: true,
      description: 'The last event whose rows are written.',
      resolve: (p) => (p.checkpoint === null ? null : BigInt(p.checkpoint)),
    }),
    headPosition: t.field({
      type: 'Position',
      nullable: true,
      resolve: (p) => (p.headPosition === null ? null : BigInt(p.headPosition)),
    }),
    lagMs: t.exposeFloat('lagMs', { description: 'How old the oldest event it has still to write is.' }),
    eventsProjected: t.exposeInt('eventsProjected', { description: 'Since it (re)started.' }),
    lastError: t.exposeString('lastError', { nullable: true }),
  }),
});

const Rebuild = builder.objectRef<ProjectionRebuild>('ProjectionRebuild').implement({
  description: 'A rebuild asked for: who asked, the fact recording it, and the projection as it stands.',
  fields: (t) => ({
    projection: t.exposeString('projection'),
    requestedBy: t.exposeString('requestedBy'),
    requestedAt: t.field({ type: 'DateTime', resolve: (r) => r.requestedAt }),
    position: t.field({
      type: 'Position',
      description: 'Where `projectionRebuildRequested` is in the log.',
      resolve: (r) => r.position,
    }),
    status: t.field({ type: Projection, resolve: (r) => r.status }),
  }),
});

builder.queryFields((t) => ({
  projections: t.field({
    type: [Projection],
    description: 'Every projection and how far it has written the log (a rebuild shows here catching up).',
    resolve: (_root, _args, ctx) => ctx.configuration.projections.list(),
  }),
}));

builder.mutationFields((t) => ({
  rebuildProjection: t.field({
    type: Rebuild,
    errors: { types: MUTATION_ERRORS },
    authScopes: { admin: true },
    description:
      "Admins: drops a projection's rows and checkpoint and projects the whole log again, in the running service. Recorded (`projectionRebuildRequested`, with who asked); answers once the rebuild has started.",
    args: {
      name: t.arg.string({
        required: true,
        description: 'audit_index | metric_series | pipeline_findings | alerts',
      }),
    },
    resolve: (_root, args, ctx) => ctx.configuration.projections.rebuild(args.name, ctx.caller.id),
  }),
}));
