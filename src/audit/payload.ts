import type { JsonValue, RecordedEvent } from '../stores/event-store/port.js';

/** Payloads larger than this (as JSON) are shown in brief unless asked for in full. */
export const BRIEF_OVER_BYTES = 16 * 1024;
/** The largest payload one field returns in full. */
export const FULL_MAX_BYTES = 1024 * 1024;
/** The most full payloads one request returns, in all. */
export const FULL_MAX_BYTES_PER_REQUEST = 8 * 1024 * 1024;

const isObject = (v: JsonValue | undefined): v is { [key: string]: JsonValue } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A sample batch's payload (see domain/metrics/batch.ts) in brief: counts, not columns. */
function batchBrief(batch: JsonValue | undefined): JsonValue | null {
  if (!isObject(batch) || typeof batch.count !== 'number' || !Array.isArray(batch.series)) return null;
  const names = new Set<string>();
  for (const s of batch.series)
    if (isObject(s) && typeof s.name === 'string' && names.size < 20) names.add(s.name);
  const columns = ['seriesIndex', 'timestamps', 'values'].reduce(
    (sum, key) => sum + (typeof batch[key] === 'string' ? (batch[key] as string).length : 0),
    0,
  );
  return {
    kind: 'sampleBatch',
    agentId: batch.agentId ?? null,
    seq: batch.seq ?? null,
    samples: batch.count,
    series: batch.series.length,
    metrics: [...names],
    columnBytes: columns,
  };
}

/**
 * Payload fields never shown, by event type: what is derived from a secret (an API key's hash) has no
 * use to a reader of the log, and would let anyone who can read the log test guesses offline.
 */
const WITHHELD: Readonly<Record<string, readonly string[]>> = { apiKeyCreated: ['hash'] };

/** The payload as readers may see it: as recorded, less the fields withheld for its type. */
export function visibleData(event: RecordedEvent): JsonValue {
  const withheld = WITHHELD[event.type];
  if (!withheld || !isObject(event.data)) return event.data;
  const data = { ...event.data };
  for (const key of withheld) if (key in data) data[key] = '(withheld)';
  return data;
}

/** The size of a payload as JSON text. */
export const jsonBytes = (data: JsonValue): number => Buffer.byteLength(JSON.stringify(data) ?? 'null');

/**
 * A payload in brief, or null when it is shown whole: sample batches (their columns are binary as
 * base64) as sample and series counts, payloads carrying a batch with that batch in brief, and any
 * other payload over `BRIEF_OVER_BYTES` as its size and top-level keys.
 */
export function briefOf(event: RecordedEvent): JsonValue | null {
  const data = event.data;
  if (event.type === 'batchFlushed') {
    const brief = batchBrief(data);
    if (brief) return brief;
  }
  if (isObject(data) && isObject(data.batch)) {
    const brief = batchBrief(data.batch);
    if (brief) return { kind: 'withSampleBatch', ...data, batch: brief };
  }
  const bytes = jsonBytes(data);
  if (bytes <= BRIEF_OVER_BYTES) return null;
  return { kind: 'large', bytes, keys: isObject(data) ? Object.keys(data).slice(0, 50) : [] };
}
