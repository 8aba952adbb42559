import { METRIC_KINDS } from '../domain/metrics/kinds.js';
import { ingestMetrics } from '../ingest/ingest-metrics.js';
import { builder, LabelInput } from './builder.js';

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
  .objectRef<{ accepted: number; rejected: readonly RejectedShape[]; dropped: number }>('IngestResult')
  .implement({
    fields: (t) => ({
      accepted: t.exposeInt('accepted'),
      rejected: t.field({ type: [RejectedSample], resolve: (r) => [...r.rejected] }),
      dropped: t.exposeInt('dropped', {
        description: 'Valid samples refused because the buffer was full (retry them later).',
      }),
    }),
  });

builder.mutationFields((t) => ({
  ingestMetrics: t.field({
    type: IngestResult,
    description:
      'Records samples through the ingest agent. Each refused sample is reported with its field and reason; the others are kept.',
    args: { samples: t.arg({ type: [SampleInput], required: true }) },
    resolve: (_root, args, ctx) =>
      ingestMetrics(ctx.ingestAgent, {
        samples: args.samples.map((s) => ({
          name: s.name,
          labels: s.labels ? Object.fromEntries(s.labels.map((l) => [l.name, l.value])) : undefined,
          kind: s.kind,
          unit: s.unit ?? undefined,
          value: s.value,
          timestamp: s.timestamp ?? undefined,
        })),
      }),
  }),
}));
