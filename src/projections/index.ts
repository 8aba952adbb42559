import { alertsProjection } from './alerts/index.js';
import { auditIndexProjection } from './audit-index/index.js';
import { forecastsProjection } from './forecasts/index.js';
import { metricSeriesProjection } from './metric-series/index.js';
import { modelsProjection } from './models/index.js';
import { pipelineFindingsProjection } from './pipeline-findings/index.js';
import { predictionsProjection } from './predictions/index.js';
import type { Projection } from './projection.js';

/** Every read model the service keeps in ClickHouse, in the order they start. */
export function allProjections(): Projection[] {
  return [
    auditIndexProjection,
    metricSeriesProjection(),
    pipelineFindingsProjection,
    alertsProjection,
    forecastsProjection,
    predictionsProjection,
    modelsProjection,
  ];
}
