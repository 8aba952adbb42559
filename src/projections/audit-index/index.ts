import { rowsProjection } from '../projection.js';
import { AUDIT_INDEX_TABLE, toAuditRow } from './mapping.js';

/** The audit index: every event in the log, searchable by stream, type, principal, correlation and time. */
export const auditIndexProjection = rowsProjection({
  name: 'audit_index',
  tables: [AUDIT_INDEX_TABLE],
  map: (events) => ({ [AUDIT_INDEX_TABLE]: events.map(toAuditRow) }),
});
