import { z } from 'zod';
import { DEFAULT_PERIODICITY } from '../analytics/periodicity.js';

/** A name or label pattern: `*` matches any run of characters; `/regex/` is a regular expression. */
const Pattern = z
  .string()
  .min(1)
  .max(500)
  .refine(
    (p) => {
      if (!(p.startsWith('/') && p.endsWith('/') && p.length > 2)) return true;
      try {
        new RegExp(p.slice(1, -1));
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a valid /regular expression/' },
  );

export const SeriesMatcher = z.object({
  name: Pattern.optional(),
  labels: z.record(z.string(), Pattern).optional(),
});
export type SeriesMatcher = z.infer<typeof SeriesMatcher>;

const duration = z
  .number()
  .int()
  .positive()
  .max(30 * 86_400_000);
const outputName = z.string().regex(/^[A-Za-z_:][A-Za-z0-9_:.]*$/, 'must be a metric name');

const sampleCount = z.number().int().min(2).max(100_000);
/** A sliding window per series: the last `samples` values, or those of the last `ms` (at most `maxSamples`). */
const AnalyticsWindow = z.union([
  z.object({ name: outputName, samples: sampleCount }).strict(),
  z.object({ name: outputName, ms: duration, maxSamples: sampleCount }).strict(),
]);
export const DEFAULT_WINDOWS = [
  { name: 'short', samples: 30 },
  { name: 'medium', samples: 300 },
  { name: 'long', ms: 3_600_000, maxSamples: 720 },
];

export const Stage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('filter'), match: SeriesMatcher, drop: z.boolean().default(false) }),
  z.object({
    type: z.literal('transform'),
    /** Multiply values (unit scaling, e.g. 0.001 for ms → s), then add `offset`. */
    scale: z.number().finite().default(1),
    offset: z.number().finite().default(0),
    /** Counters become per-second rates (resets handled); the series is renamed `<name>:rate`. */
    counterToRate: z.boolean().default(false),
    unit: z.string().max(64).optional(),
  }),
  z.object({
    type: z.literal('enrich'),
    labels: z.record(z.string(), z.string()).default({}),
    /** Labels looked up from another label's value: `{ label: 'host', values: { h1: { dc: 'eu' } } }`. */
    lookup: z
      .object({ label: z.string(), values: z.record(z.string(), z.record(z.string(), z.string())) })
      .optional(),
  }),
  z.object({
    type: z.literal('aggregate'),
    window: z.object({
      type: z.enum(['tumbling', 'sliding']),
      sizeMs: duration,
      slideMs: duration.optional(),
    }),
    functions: z.array(z.enum(['count', 'sum', 'min', 'max', 'avg', 'p50', 'p90', 'p99'])).min(1),
    /** Labels to group by; the others are aggregated away. */
    by: z.array(z.string()).default([]),
  }),
  z.object({
    type: z.literal('join'),
    left: SeriesMatcher,
    right: SeriesMatcher,
    windowMs: duration,
    op: z.enum(['ratio', 'difference', 'sum', 'product']),
    as: outputName,
    /** Labels both sides must share to be joined. */
    on: z.array(z.string()).default([]),
  }),
]);
export type Stage = z.infer<typeof Stage>;

export const PipelineDefinition = z
  .object({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _ (starting with a letter)'),
    /** Which series the pipeline takes (routing rules): any matcher matching admits a series. */
    route: z.array(SeriesMatcher).min(1),
    mode: z.enum(['realtime', 'microbatch', 'hybrid']).default('realtime'),
    microbatch: z
      .object({
        maxSamples: z.number().int().positive().default(100_000),
        maxDelayMs: duration.default(1000),
      })
      .default({ maxSamples: 100_000, maxDelayMs: 1000 }),
    /** Hybrid: micro-batch above `highSamplesPerSecond` of input, back to real-time below `lowSamplesPerSecond`. */
    hybrid: z
      .object({
        highSamplesPerSecond: z.number().positive().default(50_000),
        lowSamplesPerSecond: z.number().positive().default(10_000),
      })
      .default({ highSamplesPerSecond: 50_000, lowSamplesPerSecond: 10_000 })
      .refine((h) => h.lowSamplesPerSecond < h.highSamplesPerSecond, {
        message: 'lowSamplesPerSecond must be below highSamplesPerSecond',
      }),
    quality: z
      .object({
        /**
         * How late a sample may arrive (behind the newest sample of its own series) and still be
         * reordered into place; the pipeline's clock (its newest sample − this) also releases it.
         */
        allowedLatenessMs: z.number().int().nonnegative().default(5000),
        /** Another allowed lateness for the series a matcher admits (the first that matches). */
        latenessBySeries: z
          .array(
            z.object({ match: SeriesMatcher, allowedLatenessMs: z.number().int().nonnegative() }).strict(),
          )
          .max(50)
          .default([]),
        /** When set, a series silent for more than twice this is reported as a gap. */
        expectedIntervalMs: duration.optional(),
        /** Samples outside [min, max], or missing a required label, fail the schema check. */
        requiredLabels: z.array(z.string()).default([]),
        min: z.number().optional(),
        max: z.number().optional(),
      })
      .default({ allowedLatenessMs: 5000, latenessBySeries: [], requiredLabels: [] }),
    stages: z.array(Stage).default([]),
    /**
     * `samples`: what the stages make (or, without stages, every routed sample) is written back as the
     * pipeline's own series; `none`: the pipeline only analyses (findings, no samples), as the default
     * analytics pipeline does, so watching every series does not store every sample twice.
     */
    output: z.enum(['samples', 'none']).default('samples'),
    /** Anomaly detection and trends on every routed series (after the quality checks). */
    analytics: z
      .object({
        /**
         * Anomaly findings are emitted at or above this ensemble score. 0.5 reports every value far beyond normal (|z| ≥ 6 in the ensemble's level view), repeated or
         * not, and every novel step with some deviation; 0.9 keeps only the novel and the extreme.
         */
        minAnomalyScore: z.number().min(0).max(1).default(0.5),
        trends: z
          .object({
            window: z.number().int().min(3).default(60),
            every: z.number().int().min(1).default(10),
            alpha: z.number().gt(0).lt(1).default(0.01),
          })
          .default({ window: 60, every: 10, alpha: 0.01 }),
        /** Stored shapes (e.g. known failure signatures) to watch every series for. */
        patterns: z
          .array(
            z.object({
              name: outputName,
              shape: z.array(z.number().finite()).min(3).max(512),
              maxDistance: z.number().positive().default(0.5),
            }),
          )
          .default([]),
        /**
         * Sliding windows kept per series (O(1) per sample each): every anomaly finding carries their
         * statistics before the sample and names the one its value departs from most.
         */
        windows: z
          .array(AnalyticsWindow)
          .min(1)
          .max(8)
          .default(DEFAULT_WINDOWS)
          .refine((ws) => new Set(ws.map((w) => w.name)).size === ws.length, {
            message: 'window names must be unique',
          }),
        /**
         * Seasonality (autocorrelation), dominant frequencies (FFT) and recurring anomalies per series,
         * analysed over `window` every `every` samples and reported only when they change; `false`: off.
         */
        periodicity: z
          .union([
            z.literal(false),
            z
              .object({
                window: z.string().default('long'),
                every: z.number().int().min(16).max(1_000_000).default(720),
                minSamples: z.number().int().min(16).default(64),
                minPeriod: z.number().int().min(2).default(2),
                minStrength: z.number().gt(0).lt(1).default(0.3),
                frequencies: z.number().int().min(1).max(16).default(3),
                minPower: z.number().gt(0).lt(1).default(0.2),
                recurrence: z
                  .object({
                    minOccurrences: z.number().int().min(3).default(3),
                    tolerance: z.number().gt(0).lt(1).default(0.1),
                    keep: z.number().int().min(3).max(256).default(32),
                  })
                  .default({ minOccurrences: 3, tolerance: 0.1, keep: 32 }),
              })
              .strict(),
          ])
          .default({ ...DEFAULT_PERIODICITY, window: 'long' }),
      })
      .refine(
        (a) => a.periodicity === false || a.windows.some((w) => w.name === (a.periodicity || null)?.window),
        {
          message: 'periodicity.window must name one of the windows',
          path: ['periodicity', 'window'],
        },
      )
      .optional(),
  })
  .refine(
    (d) =>
      d.stages.every(
        (s) =>
          s.type !== 'aggregate' ||
          s.window.type === 'tumbling' ||
          (s.window.slideMs !== undefined &&
            s.window.slideMs <= s.window.sizeMs &&
            s.window.sizeMs % s.window.slideMs === 0),
      ),
    { message: 'a sliding window needs slideMs that divides sizeMs', path: ['stages'] },
  );
export type PipelineDefinition = z.infer<typeof PipelineDefinition>;
export type PipelineDefinitionInput = z.input<typeof PipelineDefinition>;
