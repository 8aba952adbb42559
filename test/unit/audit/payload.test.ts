import { describe, expect, it } from 'vitest';
import { BRIEF_OVER_BYTES, briefOf, visibleData } from '../../../src/audit/payload.js';
import { encodeBatch } from '../../../src/domain/metrics/batch.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import type { JsonValue, RecordedEvent } from '../../../src/stores/event-store/port.js';

const event = (type: string, data: JsonValue, streamId = 'x-1'): RecordedEvent => ({
  id: crypto.randomUUID(),
  type,
  streamId,
  category: streamId.split('-')[0]!,
  revision: 0n,
  position: 1n,
  data,
  metadata: {},
  createdAt: new Date(0),
});

const def = (name: string, host: string): SeriesDef => ({
  id: String(name.length + host.length),
  name,
  labels: { host },
  kind: 'gauge',
  role: 'value',
  family: name,
  unit: '',
});

const batch = encodeBatch({
  agentId: 'otlp',
  seq: 3,
  series: [def('cpu', 'a'), def('mem', 'a')],
  seriesIndex: Uint32Array.from([0, 1, 0]),
  timestamps: Float64Array.from([1000, 1000, 2000]),
  values: Float64Array.from([1, 2, 3]),
}) as unknown as JsonValue;

describe('payloads as the audit API shows them', () => {
  it('shows a sample batch in brief: counts and metric names, not its columns', () => {
    expect(briefOf(event('batchFlushed', batch, 'samples-otlp'))).toMatchObject({
      kind: 'sampleBatch',
      agentId: 'otlp',
      seq: 3,
      samples: 3,
      series: 2,
      metrics: ['cpu', 'mem'],
    });
    expect(briefOf(event('lateSamplesRouted', { sourcePosition: '7', batch }))).toMatchObject({
      kind: 'withSampleBatch',
      sourcePosition: '7',
      batch: { kind: 'sampleBatch', samples: 3 },
    });
  });

  it('shows small payloads whole and large ones as their size and keys', () => {
    expect(briefOf(event('anomalyDetected', { value: 99 }))).toBeNull();
    const large = event('checkpointWritten', { engine: 'x'.repeat(BRIEF_OVER_BYTES), counters: {} });
    expect(briefOf(large)).toEqual({
      kind: 'large',
      bytes: JSON.stringify(large.data).length,
      keys: ['engine', 'counters'],
    });
  });

  it('withholds what derives from a secret', () => {
    const created = event('apiKeyCreated', {
      keyId: 'k1',
      name: 'ci',
      role: 'viewer',
      hash: 'ab'.repeat(32),
    });
    expect(visibleData(created)).toEqual({ keyId: 'k1', name: 'ci', role: 'viewer', hash: '(withheld)' });
    expect(created.data).toMatchObject({ hash: 'ab'.repeat(32) });
    expect(visibleData(event('anomalyDetected', { hash: 'kept' }))).toEqual({ hash: 'kept' });
  });
});
