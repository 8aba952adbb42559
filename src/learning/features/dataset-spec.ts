import { z } from 'zod';
import { MATCH_OPS } from '../../projections/metric-series/selector.js';

/**
 * What a dataset is built from, as the API takes it (and checks it, naming the field): rows given
 * inline, or metric series from ClickHouse aligned on a step with derived features and a target.
 */

/** Limits that keep a dataset within what one request may ask for. */
export const DATASET_LIMITS = {
  /** Rows of an inline dataset. */
  inlineRows: 200_000,
  /** Columns of an inline dataset. */
  inlineColumns: 2_000,
  /** Numbers of an inline dataset (rows × columns). */
  inlineCells: 10_000_000,
  /** Series that become columns (before derived features). */
  seriesColumns: 100,
  /** Buckets per series: `(to - from) / stepMs`. */
  buckets: 100_000,
  /** Largest lag, rolling window or difference, in steps. */
  steps: 1_000,
} as const;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const SelectorSpec = z
  .object({
    seriesIds: z.array(z.string()).optional(),
    name: z.string().optional(),
    matchers: z
      .array(z.object({ label: z.string(), op: z.enum(MATCH_OPS).default('eq'), value: z.string() }))
      .optional(),
    text: z.string().optional(),
  })
  .strict();
export type SelectorSpec = z.output<typeof SelectorSpec>;

export const InlineDatasetSpec = z
  .object({
    features: z.array(z.array(finite)).min(1, 'needs at least one row').max(DATASET_LIMITS.inlineRows),
    /** Class labels or values, one per row; absent for clustering. */
    target: z.array(finite).optional(),
    featureNames: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const width = d.features[0]?.length ?? 0;
    if (width === 0)
      ctx.addIssue({ code: 'custom', path: ['features', 0], message: 'a row needs a feature' });
    if (width > DATASET_LIMITS.inlineColumns)
      ctx.addIssue({
        code: 'custom',
        path: ['features', 0],
        message: `at most ${DATASET_LIMITS.inlineColumns} features`,
      });
    if (d.features.length * width > DATASET_LIMITS.inlineCells)
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: `at most ${DATASET_LIMITS.inlineCells} numbers (rows × features)`,
      });
    const bad = d.features.findIndex((row) => row.length !== width);
    if (bad >= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['features', bad],
        message: `has ${d.features[bad]!.length} values, row 0 has ${width}: every row must be as wide`,
      });
    if (d.target && d.target.length !== d.features.length)
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `has ${d.target.length} values for ${d.features.length} rows`,
      });
    if (d.featureNames && d.featureNames.length !== width)
      ctx.addIssue({
        code: 'custom',
        path: ['featureNames'],
        message: `has ${d.featureNames.length} names for ${width} features`,
      });
  });
export type InlineDatasetSpec = z.output<typeof InlineDatasetSpec>;

const steps = z
  .array(z.number().int().min(1).max(DATASET_LIMITS.steps))
  .max(50)
  .default([])
  .transform((list) => [...new Set(list)].sort((a, b) => a - b));

/**
 * A label from stored facts: row time t is labelled 1 iff such a fact has its time in (t, t + horizonMs].
 * `alert`: an `alertFired` transition (its time `at`) of `rule` (any rule when absent) on one of the
 * `selector`'s series; `anomaly`: an anomaly (its sample time) on one of them, at or above `minScore`,
 * from `pipelineId` (any when absent). Without a selector: the dataset's own series.
 */
export const LabelSpec = z
  .object({
    kind: z.enum(['alert', 'anomaly']),
    selector: SelectorSpec.optional(),
    rule: z.string().min(1).optional(),
    pipelineId: z.string().min(1).optional(),
    minScore: z.number().min(0).max(1).optional(),
    horizonMs: z
      .number()
      .int()
      .min(1)
      .max(365 * 86_400_000),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.kind === 'anomaly' && l.rule !== undefined)
      ctx.addIssue({ code: 'custom', path: ['rule'], message: 'applies to ALERT labels only' });
    if (l.kind === 'alert' && l.pipelineId !== undefined)
      ctx.addIssue({ code: 'custom', path: ['pipelineId'], message: 'applies to ANOMALY labels only' });
    if (l.kind === 'alert' && l.minScore !== undefined)
      ctx.addIssue({ code: 'custom', path: ['minScore'], message: 'applies to ANOMALY labels only' });
  });
export type LabelSpec = z.output<typeof LabelSpec>;

/** A target read from a series: its bucket average `horizonSteps` steps after the row's bucket. */
export const TargetSeriesSpec = z
  .object({
    series: SelectorSpec,
    horizonSteps: z.number().int().min(0).max(DATASET_LIMITS.steps).default(1),
  })
  .strict();

export const CalendarSpec = z
  .object({
    timeOfDay: z.boolean().default(false),
    dayOfWeek: z.boolean().default(false),
    /** `cyclic`: sin and cos of the angle on the day's (week's) circle; `numeric`: hours 0–24, day 0–6. */
    encoding: z.enum(['cyclic', 'numeric']).default('cyclic'),
  })
  .strict();
export type CalendarSpec = z.output<typeof CalendarSpec>;

export const SeriesDatasetSpec = z
  .object({
    series: z.array(SelectorSpec).min(1, 'needs at least one selector').max(DATASET_LIMITS.seriesColumns),
    from: z.number().int(),
    to: z.number().int(),
    stepMs: z.number().int().min(1),
    lags: steps,
    rolling: steps.refine((w) => w.every((x) => x >= 2), 'windows are at least 2 steps'),
    differences: steps,
    calendar: CalendarSpec.optional(),
    /**
     * Appends a last feature, `step`: the row's time in steps since the epoch (its time / stepMs, a whole
     * number), so that a model can place each row in time (e.g. `holtWinters`, whose default time
     * column is the last one).
     */
    timeIndex: z.boolean().default(false),
    label: LabelSpec.optional(),
    target: TargetSeriesSpec.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (!(d.from < d.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if ((d.to - d.from) / d.stepMs > DATASET_LIMITS.buckets)
      ctx.addIssue({
        code: 'custom',
        path: ['stepMs'],
        message: `the range holds more than ${DATASET_LIMITS.buckets} steps: use a larger step or a shorter range`,
      });
    if (d.label && d.target)
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'give a label or a target series, not both',
      });
  });
export type SeriesDatasetSpec = z.output<typeof SeriesDatasetSpec>;

/** Exactly one of `inline` and `fromSeries`. */
export const DatasetSpec = z
  .object({ inline: InlineDatasetSpec.optional(), fromSeries: SeriesDatasetSpec.optional() })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.inline === undefined) === (d.fromSeries === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of inline and fromSeries' });
  });
export type DatasetSpec = z.output<typeof DatasetSpec>;
