import { rowsProjection } from '../projection.js';
import { FINDINGS_TABLE, LATE_TABLE, qualityRows } from './mapping.js';

/** Quality findings and late samples of every pipeline, queryable by pipeline and time. */
export const pipelineQualityProjection = rowsProjection({
  name: 'pipeline_quality',
  filter: { categories: ['quality'] },
  tables: [FINDINGS_TABLE, LATE_TABLE],
  map: qualityRows,
});
