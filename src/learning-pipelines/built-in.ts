import { z } from 'zod';
import { parseOrThrow } from '../domain/errors.js';
import type { LearningPipelineInput } from '../domain/learning-pipeline/definition.js';
import { SelectorSpec } from '../learning/features/dataset-spec.js';

/**
 * The pipelines users expect, each one definition away: given a component (a selector of its metric
 * series, e.g. by a `service` label), each answers a whole learning pipeline definition, which the
 * caller may then adjust like any other.
 */

const HOUR = 3_600_000;
const common = {
  /** The component's metric series: the model's inputs. */
  component: SelectorSpec,
  /** The model trained (default: `<kind>-<pipeline id>`). */
  modelId: z.string().min(1).max(200).optional(),
  stepMs: z.number().int().min(1000).default(60_000),
  windowMs: z
    .number()
    .int()
    .min(60_000)
    .default(7 * 24 * HOUR),
  scheduleMs: z
    .number()
    .int()
    .min(0)
    .default(24 * HOUR),
  priority: z.number().int().min(0).max(100).default(0),
};

export const FailurePredictionOptions = z
  .object({
    ...common,
    /** "An alert within this horizon": the label's horizon. */
    horizonMs: z.number().int().min(1000).default(HOUR),
    /** Only this alert rule's firings count (default: any rule on the component's series). */
    rule: z.string().min(1).optional(),
    /** Alerts on these series count (default: the component's own). */
    alertsOn: SelectorSpec.optional(),
  })
  .strict();

export const OperationalStateOptions = z
  .object({
    ...common,
    /** How many states. */
    k: z.number().int().min(2).max(20).default(3),
    /** Smooth each metric over this many steps before clustering (1: none). */
    smoothSteps: z.number().int().min(1).max(1000).default(1),
  })
  .strict();

export const BaselineOptions = z
  .object({
    ...common,
    /** The metric the baseline predicts (one series). */
    target: SelectorSpec,
    /**
     * `linear`: ridge regression on the component's last steps and the time of day and week, moved on
     * by gradient steps; `holtWinters`: exponential smoothing of the target alone (level, trend,
     * season), its state stepped on by each new row.
     */
    model: z.enum(['linear', 'holtWinters']).default('linear'),
    /** `realtime` (default): the model moves on with each new batch of rows by gradient steps. */
    mode: z.enum(['batch', 'realtime']).default('realtime'),
    /** Realtime: look for new rows this often. */
    scheduleMs: z
      .number()
      .int()
      .min(0)
      .default(5 * 60_000),
    /** Realtime: fewest new steps before an update. */
    minNewSteps: z.number().int().min(1).max(100_000).default(10),
  })
  .strict();

export const BUILT_IN_KINDS = ['failurePrediction', 'operationalState', 'baseline'] as const;
export type BuiltInKind = (typeof BUILT_IN_KINDS)[number];

/** What every built-in definition takes from the common options. */
const scheduling = (
  o: { modelId?: string | undefined; scheduleMs: number; priority: number; windowMs: number },
  builtIn: BuiltInKind,
  modelId: string,
) => ({
  modelId: o.modelId ?? modelId,
  builtIn,
  scheduleMs: o.scheduleMs,
  priority: o.priority,
  windowMs: o.windowMs,
});

/** Failure prediction: a classifier of "an alert within `horizonMs`" from the component's recent metrics. */
function failurePrediction(id: string, o: z.output<typeof FailurePredictionOptions>): LearningPipelineInput {
  return {
    ...scheduling(o, 'failurePrediction', `failure-${id}`),
    description: `Predicts an alert within ${o.horizonMs} ms from the component's metrics`,
    dataset: {
      series: [o.component],
      stepMs: o.stepMs,
      lags: [1, 2],
      rolling: [5],
      differences: [1],
      label: {
        kind: 'alert',
        horizonMs: o.horizonMs,
        ...(o.rule ? { rule: o.rule } : {}),
        ...(o.alertsOn ? { selector: o.alertsOn } : {}),
      },
    },
    training: {
      algorithm: 'randomForest',
      task: 'classification',
      params: { nEstimators: 50, maxDepth: 8 },
      testFraction: 0.3,
    },
    promote: { metric: 'f1' },
  };
}

/** Operational states: k-means clusters of the component's (standardised) metrics, named by their centres. */
function operationalState(id: string, o: z.output<typeof OperationalStateOptions>): LearningPipelineInput {
  return {
    ...scheduling(o, 'operationalState', `states-${id}`),
    description: `${o.k} operational states of the component, named by their centres`,
    dataset: {
      series: [o.component],
      stepMs: o.stepMs,
      ...(o.smoothSteps > 1 ? { rolling: [o.smoothSteps] } : {}),
    },
    training: {
      algorithm: 'kMeans',
      task: 'clustering',
      params: { k: o.k, nInit: 4 },
      features: { scale: 'standard' },
      testFraction: 0.2,
    },
    promote: { metric: 'silhouette' },
  };
}

/** A baseline per component: the target metric's next step, as the component's recent past says it. */
function baseline(id: string, o: z.output<typeof BaselineOptions>): LearningPipelineInput {
  const common = {
    ...scheduling(o, 'baseline', `baseline-${id}`),
    mode: o.mode,
    minNewSteps: o.minNewSteps,
    promote: { metric: 'rmse' },
  };
  if (o.model === 'holtWinters')
    return {
      ...common,
      description: "The target metric's expected next values by exponential smoothing (Holt-Winters)",
      dataset: {
        series: [o.target],
        stepMs: o.stepMs,
        timeIndex: true,
        target: { series: o.target, horizonSteps: 0 },
      },
      training: { algorithm: 'holtWinters', task: 'regression', testFraction: 0.25 },
    };
  return {
    ...common,
    description: "The component's expected next value of its target metric",
    dataset: {
      series: [o.component],
      stepMs: o.stepMs,
      lags: [1, 2, 3],
      calendar: { timeOfDay: true, dayOfWeek: true },
      target: { series: o.target, horizonSteps: 1 },
    },
    training: {
      algorithm: 'linearRegression',
      task: 'regression',
      params: { ridgeAlpha: 1 },
      features: { scale: 'standard' },
      testFraction: 0.25,
      learningRate: 0.05,
    },
  };
}

const OPTIONS = {
  failurePrediction: FailurePredictionOptions,
  operationalState: OperationalStateOptions,
  baseline: BaselineOptions,
} as const;

/** The definition of a built-in pipeline; a ValidationError names the option at fault under `options`. */
export function builtInDefinition(kind: BuiltInKind, id: string, options: unknown): LearningPipelineInput {
  const parsed = parseOrThrow(OPTIONS[kind], options, { path: 'options' });
  if (kind === 'failurePrediction')
    return failurePrediction(id, parsed as z.output<typeof FailurePredictionOptions>);
  if (kind === 'operationalState')
    return operationalState(id, parsed as z.output<typeof OperationalStateOptions>);
  return baseline(id, parsed as z.output<typeof BaselineOptions>);
}
