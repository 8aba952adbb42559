import type { Metadata, RecordedEvent } from '../../stores/event-store/port.js';
import type { Row } from '../projection.js';

export const AUDIT_INDEX_TABLE = 'audit_index';

function text(metadata: Metadata, key: string): string {
  const value = metadata[key];
  return typeof value === 'string' ? value : '';
}

function small(metadata: Metadata, key: string): number {
  const value = metadata[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 65536 ? value : 0;
}

let lastMs = Number.NaN;
let lastText = '';

/**
 * `2026-11-27 01:02:03.456`, the DateTime64(3, 'UTC') text form. The events of one append share their
 * time, so the last one formatted is kept (the audit index formats one for every event in the log).
 */
export function clickhouseTime(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastMs) {
    lastText = date.toISOString().replace('T', ' ').replace('Z', '');
    lastMs = ms;
  }
  return lastText;
}

/** One audit row per event. Pure. */
export function toAuditRow(event: RecordedEvent): Row {
  const state = event.metadata.state;
  return {
    position: event.position.toString(),
    stream_id: event.streamId,
    category: event.category,
    revision: event.revision.toString(),
    event_id: event.id,
    event_type: event.type,
    created_at: clickhouseTime(event.createdAt),
    principal: text(event.metadata, 'principal'),
    correlation_id: text(event.metadata, 'correlationId'),
    causation_id: text(event.metadata, 'causationId'),
    command_id: text(event.metadata, 'commandId'),
    machine_version: small(event.metadata, 'machineVersion'),
    schema_version: small(event.metadata, 'schemaVersion'),
    state:
      state === undefined || state === null ? '' : typeof state === 'string' ? state : JSON.stringify(state),
  };
}
