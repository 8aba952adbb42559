import { isActorCacheEvent } from '../../domain/actor-cache/facts.js';
import { rowsProjection } from '../projection.js';
import { AUDIT_INDEX_TABLE, toAuditRow } from './mapping.js';

/** The audit index: every fact in the log, searchable by stream, type, principal, correlation and time. */
export const auditIndexProjection = rowsProjection({
  name: 'audit_index',
  tables: [AUDIT_INDEX_TABLE],
  // The actor host's caches (snapshots, in-flight index) are not facts and are not indexed.
  map: (events) => ({ [AUDIT_INDEX_TABLE]: events.filter((e) => !isActorCacheEvent(e)).map(toAuditRow) }),
});
