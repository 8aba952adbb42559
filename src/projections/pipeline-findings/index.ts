import { rowsProjection } from '../projection.js';
import {
  ANOMALIES_TABLE,
  FINDINGS_TABLE,
  findingRows,
  LATE_TABLE,
  PATTERNS_TABLE,
  PERIODICITY_TABLE,
  TRENDS_TABLE,
} from './mapping.js';

/**
 * Every pipeline's findings — anomalies, trend changes, shapes, periodicity changes, quality issues,
 * late samples — queryable by series and time.
 */
export const pipelineFindingsProjection = rowsProjection({
  name: 'pipeline_findings',
  filter: { categories: ['findings'] },
  tables: [FINDINGS_TABLE, LATE_TABLE, ANOMALIES_TABLE, TRENDS_TABLE, PATTERNS_TABLE, PERIODICITY_TABLE],
  map: findingRows,
});
