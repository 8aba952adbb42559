import { METRIC_KINDS } from '../domain/metrics/kinds.js';
import { ingestMetrics } from '../ingest/ingest-metrics.js';
import { builder, LabelInput } from './builder.js';
import { MUTATION_ERRORS } from './error-types.js';

const MetricKind = builder.enumType('MetricKind', { values: METRIC_KINDS });

const SampleInput = builder.inputType('SampleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    labels: t.field({ type: [LabelInput], description: 'Default: none.' }),
    kind: t.field({ type: MetricKind, required: true }),
    unit: t.string(),
    value: t.float({ required: true }),
    timestamp: t.field({ type: 'DateTime', description: 'Default: when it arrives.' }),
  }),
});

interface RejectedShape {
  readonly index: number;
  readonly path: string;
  readonly message: string;
}
const RejectedSample = builder.objectRef<RejectedShape>('RejectedSample').implement({
  description: 'A sample refused at the edge: which one, which field, and why.',
  fields: (t) => ({
    index: t.exposeInt('index'),
    field: t.exposeString('path'),
    reason: t.exposeString('message'),
  }),
});

const IngestResult = builder
  .objectRef<{ accepted: number; rejected: readonly RejectedShape[]; dropped: number; duplicate: boolean }>(
    'IngestResult',
  )
  .implement({
    description: 'Given once the accepted samples are durable (in the log, or fsynced to the spool).',
    fields: (t) => ({
      accepted: t.exposeInt('accepted'),
      rejected: t.field({ type: [RejectedSample], resolve: (r) => [...r.rejected] }),
      dropped: t.exposeInt('dropped', {
        description: 'Always 0: a request the agent cannot hold is refused whole (UNAVAILABLE).',
      }),
      duplicate: t.exposeBoolean('duplicate', {
        description:
          'True when a request with this id was taken before: nothing new was recorded, the answer is the first one.',
      }),
    }),
  });

builder.mutationFields((t) => ({
  ingestMetrics: t.field({
    type: IngestResult,
    errors: { types: MUTATION_ERRORS },
    description:
      'Records samples through the ingest agent, answered once they are durable. Each refused sample is reported with its field and reason; the others are kept. With `id`, a retry records nothing and gets the first answer.',
    args: {
      samples: t.arg({ type: [SampleInput], required: true }),
      id: t.arg.string({ description: 'Idempotency key (1-200 printable ASCII characters).' }),
    },
    resolve: (_root, args, ctx) =>
      ingestMetrics(
        ctx.ingestAgent,
        {
          ...(args.id === null || args.id === undefined ? {} : { id: args.id }),
          samples: args.samples.map((s) => ({
            name: s.name,
            labels: s.labels ? Object.fromEntries(s.labels.map((l) => [l.name, l.value])) : undefined,
            kind: s.kind,
            unit: s.unit ?? undefined,
            value: s.value,
            timestamp: s.timestamp ?? undefined,
          })),
        },
        ctx.caller.id,
      ),
  }),
}));
