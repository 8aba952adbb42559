import type { Labels } from '../../domain/metrics/kinds.js';
import type { TimeSlicer } from '../../runtime/yield.js';
import type { ColumnarRequest } from './columns.js';
import {
  type MetricContext,
  type MetricData,
  metricContext,
  numberSeries,
  objectPoint,
  resourceLabelsOf,
} from './points.js';
import { I64, i64, LEN, nanosToMs, Reader, u64, VARINT } from './wire-reader.js';

export { WireError } from './wire-reader.js';

/*
 * An OTLP ExportMetricsServiceRequest decoded from its protobuf bytes in one walk, written straight into
 * the agent's columns. Written by hand rather than with protobufjs on purpose: protobufjs materialises
 * an object per data point, per attribute and per 64-bit integer (a Long), then `toObject` copies them
 * all again, and that garbage was most of the cost of ingest through the HTTP edge. Here a gauge or sum
 * data point costs no object at all: its attributes' bytes, as they are on the wire, name its series
 * (looked up, and decoded into labels only the first time that label set is seen), and its timestamp
 * and value go into typed arrays. Histograms, summaries and exponential histograms (rare, and several
 * samples a point) are decoded into the JSON shape and share its conversion.
 *
 * It gives the samples protobufjs decoding followed by the JSON conversion gives (the unit tests hold
 * it to that), including its readings of odd input: the last occurrence of a singular field, or of a
 * member of a oneof, wins; a repeated field may be split or packed; unknown fields are skipped. A body
 * it cannot walk (truncated, a wrong wire type, a length past the end) throws a WireError.
 */

/** An AnyValue as the label value the JSON conversion makes of it. */
function anyValue(rd: Reader, end: number): string {
  // A oneof: the member last on the wire is the value (as protobufjs decodes it).
  let value = '';
  let arrayStart = -1;
  let arrayEnd = -1;
  while (rd.pos < end) {
    const tag = rd.tag(end);
    switch (tag >>> 3) {
      case 1:
        rd.expect(tag, LEN);
        value = rd.string(end);
        arrayStart = -1;
        break;
      case 2:
        rd.expect(tag, VARINT);
        value = String(rd.varint(end) !== 0);
        arrayStart = -1;
        break;
      case 3: {
        rd.expect(tag, VARINT);
        const lo = rd.varint64(end);
        value = BigInt.asIntN(64, (BigInt(rd.hi) << 32n) | BigInt(lo)).toString();
        arrayStart = -1;
        break;
      }
      case 4:
        rd.expect(tag, I64);
        value = String(rd.double(end));
        arrayStart = -1;
        break;
      case 5:
        rd.expect(tag, LEN);
        arrayEnd = rd.len(end);
        arrayStart = rd.pos;
        rd.pos = arrayEnd;
        break;
      case 6:
        // A key-value list has no label form: the empty string, as the JSON conversion gives.
        rd.expect(tag, LEN);
        rd.pos = rd.len(end);
        value = '';
        arrayStart = -1;
        break;
      case 7: {
        rd.expect(tag, LEN);
        const to = rd.len(end);
        value = rd.buf.toString('base64', rd.pos, to);
        rd.pos = to;
        arrayStart = -1;
        break;
      }
      default:
        rd.skip(tag & 7, end, tag >>> 3);
    }
  }
  if (arrayStart < 0) return value;
  const values: string[] = [];
  rd.pos = arrayStart;
  while (rd.pos < arrayEnd) {
    const tag = rd.tag(arrayEnd);
    if (tag >>> 3 !== 1) {
      rd.skip(tag & 7, arrayEnd, tag >>> 3);
      continue;
    }
    rd.expect(tag, LEN);
    const to = rd.len(arrayEnd);
    values.push(anyValue(rd, to));
    rd.pos = to;
  }
  rd.pos = end;
  return JSON.stringify(values);
}

/** A KeyValue into `out` (a KeyValue without a key is ignored, as the JSON conversion does). */
function keyValue(rd: Reader, end: number, out: Record<string, string>): void {
  let key: string | undefined;
  let valueStart = -1;
  let valueEnd = -1;
  while (rd.pos < end) {
    const tag = rd.tag(end);
    if (tag >>> 3 === 1) {
      rd.expect(tag, LEN);
      key = rd.string(end);
    } else if (tag >>> 3 === 2) {
      rd.expect(tag, LEN);
      valueEnd = rd.len(end);
      valueStart = rd.pos;
      rd.pos = valueEnd;
    } else rd.skip(tag & 7, end, tag >>> 3);
  }
  if (key === undefined) return;
  if (valueStart < 0) out[key] = '';
  else {
    rd.pos = valueStart;
    out[key] = anyValue(rd, valueEnd);
    rd.pos = end;
  }
}

/** The attributes (repeated KeyValue, field `field`) of the message in [start, end). */
function attributes(rd: Reader, start: number, end: number, field: number): Record<string, string> {
  const out: Record<string, string> = {};
  const found = ranges(rd, start, end, field);
  for (let i = 0; i < found.length; i += 2) {
    rd.pos = found[i]!;
    keyValue(rd, found[i + 1]!, out);
  }
  rd.pos = end;
  return out;
}

/** The fields of the message in [start, end) with the given numbers (LEN), each occurrence as [start, end]. */
function ranges(rd: Reader, start: number, end: number, field: number): number[] {
  const found: number[] = [];
  rd.pos = start;
  while (rd.pos < end) {
    const tag = rd.tag(end);
    if (tag >>> 3 !== field) {
      rd.skip(tag & 7, end, tag >>> 3);
      continue;
    }
    rd.expect(tag, LEN);
    const to = rd.len(end);
    found.push(rd.pos, to);
    rd.pos = to;
  }
  return found;
}

/**
 * A NumberDataPoint (gauge or sum) straight into the columns. Its attributes (field 7), as bytes,
 * with the metric's context, are its series' key.
 */
function numberPoint(
  rd: Reader,
  start: number,
  end: number,
  out: ColumnarRequest,
  metric: MetricContext,
  d: number,
  at: number,
) {
  const point = out.point(metric.id, d);
  const bytesKey = rd.key;
  let timeLo = 0;
  let timeHi = 0;
  let hasDouble = false;
  let asDouble = 0;
  let hasInt = false;
  let intLo = 0;
  let intHi = 0;
  let flags = 0;
  let attrStart = -1;
  let attrEnd = -1;
  let split = false;
  rd.pos = start;
  while (rd.pos < end) {
    const at0 = rd.pos;
    const tag = rd.tag(end);
    switch (tag >>> 3) {
      case 7:
        rd.expect(tag, LEN);
        if (attrStart < 0) attrStart = at0;
        else if (attrEnd !== at0) split = true;
        rd.pos = rd.len(end);
        attrEnd = rd.pos;
        break;
      case 3:
        rd.expect(tag, I64);
        timeLo = rd.fixed64(end);
        timeHi = rd.hi;
        break;
      // asDouble and asInt are a oneof: the one last on the wire is the value.
      case 4:
        rd.expect(tag, I64);
        hasDouble = true;
        hasInt = false;
        asDouble = rd.double(end);
        break;
      case 6:
        rd.expect(tag, I64);
        hasInt = true;
        hasDouble = false;
        intLo = rd.fixed64(end);
        intHi = rd.hi;
        break;
      case 8:
        rd.expect(tag, VARINT);
        flags = rd.varint(end);
        break;
      default:
        rd.skip(tag & 7, end, tag >>> 3);
    }
  }
  if ((flags & 1) === 1) {
    out.refuse(point, { path: `${out.pointPath(point)}.flags`, message: 'no recorded value' });
    return;
  }
  // The attributes' bytes as they are (one piece, as encoders write them), or else piece by piece.
  let key: string | { buf: Buffer; start: number; end: number } = bytesKey;
  if (attrStart < 0) bytesKey.start = bytesKey.end = 0;
  else if (!split) {
    bytesKey.start = attrStart;
    bytesKey.end = attrEnd;
  } else {
    key = 's';
    for (let r = ranges(rd, start, end, 7), i = 0; i < r.length; i += 2)
      key += `${r[i + 1]! - r[i]!}:${rd.buf.toString('latin1', r[i]!, r[i + 1]!)}`;
  }
  rd.labels.start = start;
  rd.labels.end = end;
  const series = numberSeries(out, metric, key, rd.labels);
  const ts = timeLo === 0 && timeHi === 0 ? at : nanosToMs(timeLo, timeHi);
  if (!hasDouble && !hasInt) {
    out.refuse(point, { path: out.pointPath(point), message: 'has neither asDouble nor asInt' });
    return;
  }
  out.emit(series, ts, hasDouble ? asDouble : i64(intLo, intHi), metric.data === 'sum' && metric.delta);
}

/** A histogram, exponential histogram or summary data point, in the shape of OTLP JSON. */
function objectShape(rd: Reader, start: number, end: number, data: MetricData): Record<string, unknown> {
  const attributesField = data === 'exponentialHistogram' ? 1 : data === 'histogram' ? 9 : 7;
  const flagsField = data === 'summary' ? 8 : 10;
  const dp: Record<string, unknown> = {};
  const bucketCounts: string[] = [];
  const explicitBounds: number[] = [];
  const quantileValues: Record<string, number>[] = [];
  rd.pos = start;
  while (rd.pos < end) {
    const tag = rd.tag(end);
    const field = tag >>> 3;
    if (field === attributesField) {
      rd.expect(tag, LEN);
      rd.pos = rd.len(end);
    } else if (field === 3) {
      rd.expect(tag, I64);
      dp.timeUnixNano = u64(rd.fixed64(end), rd.hi);
    } else if (field === 4) {
      rd.expect(tag, I64);
      dp.count = u64(rd.fixed64(end), rd.hi);
    } else if (field === 5) {
      rd.expect(tag, I64);
      dp.sum = rd.double(end);
    } else if (field === flagsField) {
      rd.expect(tag, VARINT);
      dp.flags = rd.varint(end);
    } else if (data === 'histogram' && field === 6) {
      if ((tag & 7) === LEN) {
        const to = rd.len(end);
        while (rd.pos < to) bucketCounts.push(u64(rd.fixed64(to), rd.hi));
      } else {
        rd.expect(tag, I64);
        bucketCounts.push(u64(rd.fixed64(end), rd.hi));
      }
    } else if (data === 'histogram' && field === 7) {
      if ((tag & 7) === LEN) {
        const to = rd.len(end);
        while (rd.pos < to) explicitBounds.push(rd.double(to));
      } else {
        rd.expect(tag, I64);
        explicitBounds.push(rd.double(end));
      }
    } else if (data === 'summary' && field === 6) {
      rd.expect(tag, LEN);
      const to = rd.len(end);
      const qv: Record<string, number> = {};
      while (rd.pos < to) {
        const inner = rd.tag(to);
        if (inner >>> 3 === 1 || inner >>> 3 === 2) {
          rd.expect(inner, I64);
          qv[inner >>> 3 === 1 ? 'quantile' : 'value'] = rd.double(to);
        } else rd.skip(inner & 7, to, inner >>> 3);
      }
      quantileValues.push(qv);
    } else rd.skip(tag & 7, end, field);
  }
  const labels = attributes(rd, start, end, attributesField);
  dp.attributes = Object.entries(labels).map(([key, value]) => ({ key, value: { stringValue: value } }));
  if (data === 'histogram') Object.assign(dp, { bucketCounts, explicitBounds });
  if (data === 'summary') dp.quantileValues = quantileValues;
  return dp;
}

const DATA_FIELDS: readonly [number, MetricData][] = [
  [5, 'gauge'],
  [7, 'sum'],
  [9, 'histogram'],
  [10, 'exponentialHistogram'],
  [11, 'summary'],
];

async function metric(
  rd: Reader,
  start: number,
  end: number,
  out: ColumnarRequest,
  path: string,
  resourceLabels: Labels,
  at: number,
  slicer: TimeSlicer | undefined,
): Promise<void> {
  let name = '';
  let unit = '';
  // The data is a oneof: the member last on the wire is the metric's.
  let chosen: readonly [number, MetricData] | undefined;
  let dataStart = 0;
  let dataEnd = 0;
  rd.pos = start;
  while (rd.pos < end) {
    const tag = rd.tag(end);
    const field = tag >>> 3;
    if (field === 1 || field === 3) {
      rd.expect(tag, LEN);
      if (field === 1) name = rd.string(end);
      else unit = rd.string(end);
    } else if (field === 5 || field === 7 || field === 9 || field === 10 || field === 11) {
      rd.expect(tag, LEN);
      dataEnd = rd.len(end);
      dataStart = rd.pos;
      chosen = DATA_FIELDS.find(([number]) => number === field);
      rd.pos = dataEnd;
    } else rd.skip(tag & 7, end, field);
  }
  if (!chosen) return;
  // The data message: its points (field 1), temporality (2, int32) and monotonicity (3, sums).
  let temporality = 0;
  let monotonic = false;
  const points: number[] = [];
  rd.pos = dataStart;
  while (rd.pos < dataEnd) {
    const tag = rd.tag(dataEnd);
    const field = tag >>> 3;
    if (field === 1) {
      rd.expect(tag, LEN);
      const to = rd.len(dataEnd);
      points.push(rd.pos, to);
      rd.pos = to;
    } else if (field === 2 && chosen[1] !== 'gauge' && chosen[1] !== 'summary') {
      rd.expect(tag, VARINT);
      temporality = rd.varint(dataEnd) | 0;
    } else if (field === 3 && chosen[1] === 'sum') {
      rd.expect(tag, VARINT);
      monotonic = rd.varint(dataEnd) !== 0;
    } else rd.skip(tag & 7, dataEnd, field);
  }
  const context = metricContext(out, path, {
    name,
    unit,
    data: chosen[1],
    delta: temporality === 1,
    counter: chosen[1] === 'sum' && monotonic,
    resourceLabels,
  });
  const number = chosen[1] === 'gauge' || chosen[1] === 'sum';
  for (let p = 0, d = 0; p < points.length; p += 2, d++) {
    if (slicer?.due()) await slicer.yield();
    if (number) numberPoint(rd, points[p]!, points[p + 1]!, out, context, d, at);
    else objectPoint(out, context, objectShape(rd, points[p]!, points[p + 1]!, chosen[1]), d, at);
  }
}

/**
 * Decodes an ExportMetricsServiceRequest into `out`. Throws a WireError when the bytes are not one
 * (data points refused for their content are in `out.rejected`, as the JSON conversion refuses them).
 */
export async function decodeProtobufRequest(
  bytes: Uint8Array,
  out: ColumnarRequest,
  at: number,
  slicer?: TimeSlicer,
): Promise<ColumnarRequest> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rd = new Reader(buf);
  const labels = { start: 0, end: 0, of: null, labels: () => attributes(rd, labels.start, labels.end, 7) };
  rd.labels = labels;
  const resourceMetrics = ranges(rd, 0, buf.length, 1);
  for (let r = 0; r < resourceMetrics.length / 2; r++) {
    const start = resourceMetrics[2 * r]!;
    const end = resourceMetrics[2 * r + 1]!;
    // Resource (field 1, the last one given) and its scopes' metrics (field 2 of each ScopeMetrics).
    const resources = ranges(rd, start, end, 1);
    const resourceLabels =
      resources.length > 0 ? resourceLabelsOf(attributes(rd, resources.at(-2)!, resources.at(-1)!, 1)) : {};
    const scopes = ranges(rd, start, end, 2);
    for (let s = 0; s < scopes.length / 2; s++) {
      const metrics = ranges(rd, scopes[2 * s]!, scopes[2 * s + 1]!, 2);
      for (let m = 0; m < metrics.length / 2; m++) {
        await metric(
          rd,
          metrics[2 * m]!,
          metrics[2 * m + 1]!,
          out,
          `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`,
          resourceLabels,
          at,
          slicer,
        );
      }
    }
  }
  return out;
}
