import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './findings.js';
import './alerts.js';
import './audit.js';
import './api-keys.js';
import './error-types.js';
import './forecasts.js';
import './json.js';
import './learning.js';
import './models.js';
import './complex-events.js';
import './coordinator.js';
import './learning-pipelines.js';
import './privacy.js';
import './deletion.js';
import './configuration/alert-rules.js';
import './configuration/complex-rules.js';
import './configuration/pipelines.js';
import './configuration/projections.js';
import './configuration/scrape-targets.js';
import './metrics.js';
import './periodicity.js';
import './predictions.js';
import './recommendations.js';
import './series.js';

/** The whole graph: one file per area registers its types and fields on the builder. */
export function buildSchema(): GraphQLSchema {
  return builder.toSchema({ sortSchema: true });
}
