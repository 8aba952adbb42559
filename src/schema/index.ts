import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './findings.js';
import './alerts.js';
import './complex-events.js';
import './metrics.js';
import './periodicity.js';

/** The whole graph: one file per area registers its types and fields on the builder. */
export function buildSchema(): GraphQLSchema {
  return builder.toSchema({ sortSchema: true });
}
