import { AlertRule } from '../domain/alerting/rules.js';
import { PipelineDefinition, type SeriesMatcher } from '../domain/pipeline/definition.js';

/**
 * What `npm start` watches with no settings (`DEFAULT_ANALYTICS=on`): one analytics-only pipeline over
 * every series the matcher admits (the default ensemble, trends and periodicity; no samples written
 * back) and the alert rules an operator expects of it. Seeded like a settings file: recorded once,
 * then changed (or deleted) through the API like any other entry.
 */
export const DEFAULT_PIPELINE_ID = 'default_analytics';

export function defaultPipeline(match: SeriesMatcher): PipelineDefinition {
  return PipelineDefinition.parse({
    id: DEFAULT_PIPELINE_ID,
    route: [match],
    mode: 'realtime',
    output: 'none',
    analytics: { minAnomalyScore: 0.5 },
  });
}

export function defaultAlertRules(match: SeriesMatcher): AlertRule[] {
  return [
    AlertRule.parse({
      id: 'anomaly',
      match,
      // Pending for half a minute after a finding, fired unless the series stays calm for resolveAfterMs
      // without one: a blip that the next findings do not confirm still shows, as pending, then resolves.
      condition: { type: 'anomalyScore', min: 0.5 },
      forMs: 30_000,
      resolveAfterMs: 300_000,
      severity: 'warning',
      escalation: { afterMs: 3_600_000, to: 'critical' },
      summary: 'The series behaves unlike its own history',
    }),
    AlertRule.parse({
      id: 'data_absent',
      match,
      // Only series with a regular cadence (measured on their last samples), after five of their
      // intervals and at least a minute; never as late as the idle series eviction, which is recorded.
      condition: { type: 'absence', missedIntervals: 5 },
      forMs: 60_000,
      severity: 'warning',
      summary: 'A series that reports regularly has stopped reporting',
    }),
  ];
}
