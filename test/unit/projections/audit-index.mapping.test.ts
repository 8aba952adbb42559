import { describe, expect, it } from 'vitest';
import { auditIndexProjection } from '../../../src/projections/audit-index/index.js';
import { toAuditRow } from '../../../src/projections/audit-index/mapping.js';
import type { RecordedEvent } from '../../../src/stores/event-store/port.js';

const event = (over: Partial<RecordedEvent> = {}): RecordedEvent => ({
  id: '0b7e7c7e-6a4f-4d55-9f31-5a0c1f3e8d21',
  type: 'trainingRequested',
  streamId: 'model-m-1',
  category: 'model',
  revision: 4n,
  position: 18_446_744_073_709_551_000n,
  data: { anything: true },
  metadata: {
    principal: 'user:ann',
    correlationId: 'c1',
    causationId: 'e0',
    commandId: 'cmd',
    machineVersion: 2,
    schemaVersion: 1,
    state: 'training',
  },
  createdAt: new Date('2026-11-27T14:02:03.456Z'),
  ...over,
});

describe('audit index mapping', () => {
  it('maps an event to one row, keeping 64-bit numbers exact as strings', () => {
    expect(toAuditRow(event())).toEqual({
      position: '18446744073709551000',
      stream_id: 'model-m-1',
      category: 'model',
      revision: '4',
      event_id: '0b7e7c7e-6a4f-4d55-9f31-5a0c1f3e8d21',
      event_type: 'trainingRequested',
      created_at: '2026-11-27 14:02:03.456',
      principal: 'user:ann',
      correlation_id: 'c1',
      causation_id: 'e0',
      command_id: 'cmd',
      machine_version: 2,
      schema_version: 1,
      state: 'training',
    });
  });

  it('fills missing or odd envelope fields with empty values and serialises nested states', () => {
    const row = toAuditRow(event({ metadata: { machineVersion: -3, state: { running: 'flushing' } } }));
    expect(row).toMatchObject({
      principal: '',
      correlation_id: '',
      machine_version: 0,
      state: '{"running":"flushing"}',
    });
  });

  it('writes one row per event to the audit table', () => {
    const rows = auditIndexProjection.map([event(), event({ revision: 5n, position: 9n })]);
    expect(rows.audit_index?.map((r) => r.position)).toEqual(['18446744073709551000', '9']);
  });
});
