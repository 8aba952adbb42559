import type { PushColumns, SampleInput, SeriesInput } from '../../collection/agent.js';
import { seriesKey } from '../../domain/metrics/identity.js';
import type { Issue } from '../../domain/metrics/validation.js';

/** Series inputs and metric contexts remembered across requests (then forgotten all at once and made again). */
const REMEMBERED_SERIES = 100_000;

/**
 * What a converter keeps between requests: the running totals of delta series (committed only for
 * accepted samples), and the series inputs it made, so that a label set seen before costs one lookup
 * and hands the agent the same input object again (which it resolves without hashing).
 */
export class ConverterState {
  readonly deltaTotals = new Map<string, number>();
  /** By metric context, then by attributes' key: two short keys hash faster than one long one. */
  private readonly contexts = new Map<string, SeriesContext>();
  private size = 0;
  private requests = 0;

  /** A new request's columns. */
  begin(): ColumnarRequest {
    return new ColumnarRequest(this, ++this.requests);
  }

  /** The series inputs of one metric context (its resource labels, name, unit and kind). */
  context(key: string): SeriesContext {
    let context = this.contexts.get(key);
    if (context === undefined) {
      this.room();
      context = { byKey: new Map(), byBytes: new Map() };
      this.contexts.set(key, context);
      this.size++;
    }
    return context;
  }

  /** Forgets everything once it remembers too much (a context in use by a request goes on working, apart). */
  private room(): void {
    if (this.size < REMEMBERED_SERIES) return;
    this.contexts.clear();
    this.size = 0;
  }

  private local(request: ColumnarRequest, entry: Interned): number {
    if (entry.request !== request.id) {
      entry.request = request.id;
      entry.local = request.addSeries(entry.input);
    }
    return entry.local;
  }

  /** The local index in `request` of the series `key` names in `context`, or -1 when it is new. */
  find(request: ColumnarRequest, context: SeriesContext, key: string): number {
    const entry = context.byKey.get(key);
    return entry === undefined ? -1 : this.local(request, entry);
  }

  /** Remembers a new series (`find` gave -1): its local index in `request`. */
  remember(request: ColumnarRequest, context: SeriesContext, key: string, input: SeriesInput): number {
    this.room();
    const entry = { input, request: 0, local: 0 };
    context.byKey.set(key, entry);
    this.size++;
    return this.local(request, entry);
  }

  /**
   * The same by bytes (buf[start, end)) that determine the input within its context: found by their
   * hash and compared byte by byte, so that a series seen before costs no allocation at all.
   */
  findBytes(
    request: ColumnarRequest,
    context: SeriesContext,
    buf: Buffer,
    start: number,
    end: number,
  ): number {
    let entry = context.byBytes.get(hashOf(buf, start, end));
    while (entry !== undefined && !sameBytes(entry.bytes, buf, start, end)) entry = entry.next;
    return entry === undefined ? -1 : this.local(request, entry);
  }

  rememberBytes(
    request: ColumnarRequest,
    context: SeriesContext,
    buf: Buffer,
    start: number,
    end: number,
    input: SeriesInput,
  ): number {
    this.room();
    const hash = hashOf(buf, start, end);
    const entry = {
      input,
      request: 0,
      local: 0,
      bytes: Buffer.from(buf.subarray(start, end)),
      next: context.byBytes.get(hash),
    };
    context.byBytes.set(hash, entry);
    this.size++;
    return this.local(request, entry);
  }

  /** `find`, then `remember` with `input` (for inputs that are made anyway). */
  intern(request: ColumnarRequest, context: SeriesContext, key: string, input: SeriesInput): number {
    const found = this.find(request, context, key);
    return found >= 0 ? found : this.remember(request, context, key, input);
  }
}

/** FNV-1a, 32 bits. */
function hashOf(buf: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
  return hash >>> 0;
}

function sameBytes(bytes: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (bytes.length !== end - start) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}

interface Interned {
  readonly input: SeriesInput;
  /** The request it was last seen in, and its local index there. */
  request: number;
  local: number;
}

interface InternedBytes extends Interned {
  readonly bytes: Buffer;
  /** Another series whose bytes have the same hash. */
  readonly next: InternedBytes | undefined;
}

/** The series of one metric context seen so far: by a string key, or by bytes (their hash, then compared). */
export interface SeriesContext {
  readonly byKey: Map<string, Interned>;
  readonly byBytes: Map<number, InternedBytes>;
}

const grow = <T extends Float64Array | Uint32Array | Uint8Array>(array: T, size: number): T => {
  if (size <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(size, array.length * 2));
  next.set(array);
  return next;
};

/**
 * One request converted into the agent's columns: sample i is (series[seriesIndex[i]], timestamps[i]
 * ms, values[i]), from data point pointOfSample[i]. No object is made per data point: a data point's
 * path (for the answer's messages) is kept as its metric's path and its index in the metric, and
 * spelled out only when a message needs it.
 */
export class ColumnarRequest implements PushColumns {
  count = 0;
  seriesIndex = new Uint32Array(1024);
  timestamps = new Float64Array(1024);
  values = new Float64Array(1024);
  pointOfSample = new Uint32Array(1024);
  /** 1 where the value is a delta series' running total (its key is the series' `seriesKey`). */
  private delta = new Uint8Array(1024);
  readonly series: SeriesInput[] = [];
  private readonly deltaKeys: (string | undefined)[] = [];
  /** Data points seen, each as (its metric's path, its index in the metric). */
  pointCount = 0;
  private pointMetric = new Uint32Array(1024);
  private pointIndex = new Uint32Array(1024);
  private readonly metricPaths: string[] = [];
  /** Data points refused during conversion (by point index), with the reason. */
  readonly rejected = new Map<number, Issue>();
  /** The running totals moved within this request, not yet committed. */
  private readonly overlay = new Map<string, number>();
  /** For the current data point: where its samples start, and the totals it moved (to undo a refusal). */
  private pointStart = 0;
  private moved: [string, number | undefined][] = [];

  constructor(
    private readonly state: ConverterState,
    readonly id: number,
  ) {}

  addSeries(input: SeriesInput): number {
    this.series.push(input);
    return this.series.length - 1;
  }

  /** The series inputs of a metric context (by a key that determines its resource labels, name, unit and kind). */
  context(key: string): SeriesContext {
    return this.state.context(key);
  }

  /** The local index of a series, by a key that determines its input within its context; -1 when new. */
  find(context: SeriesContext, key: string): number {
    return this.state.find(this, context, key);
  }

  remember(context: SeriesContext, key: string, input: SeriesInput): number {
    return this.state.remember(this, context, key, input);
  }

  /** The same, by bytes that determine its input within its context. */
  findBytes(context: SeriesContext, buf: Buffer, start: number, end: number): number {
    return this.state.findBytes(this, context, buf, start, end);
  }

  rememberBytes(context: SeriesContext, buf: Buffer, start: number, end: number, input: SeriesInput): number {
    return this.state.rememberBytes(this, context, buf, start, end, input);
  }

  intern(context: SeriesContext, key: string, input: SeriesInput): number {
    return this.state.intern(this, context, key, input);
  }

  /** A metric's data points path, e.g. `resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints`. */
  metric(path: string): number {
    this.metricPaths.push(path);
    return this.metricPaths.length - 1;
  }

  /** Starts a data point: its samples follow, until the next point (or its refusal). */
  point(metric: number, index: number): number {
    const p = this.pointCount++;
    if (p >= this.pointMetric.length) {
      this.pointMetric = grow(this.pointMetric, p + 1);
      this.pointIndex = grow(this.pointIndex, p + 1);
    }
    this.pointMetric[p] = metric;
    this.pointIndex[p] = index;
    this.pointStart = this.count;
    if (this.moved.length) this.moved = [];
    return p;
  }

  pointPath(p: number): string {
    return `${this.metricPaths[this.pointMetric[p]!]}[${this.pointIndex[p]}]`;
  }

  /** Appends a sample of the current point; a delta value is added to its series' running total. */
  emit(series: number, timestamp: number, value: number, delta: boolean): void {
    const i = this.count++;
    if (i >= this.values.length) {
      this.seriesIndex = grow(this.seriesIndex, i + 1);
      this.timestamps = grow(this.timestamps, i + 1);
      this.values = grow(this.values, i + 1);
      this.pointOfSample = grow(this.pointOfSample, i + 1);
      this.delta = grow(this.delta, i + 1);
    }
    if (delta) {
      let key = this.deltaKeys[series];
      if (key === undefined) {
        const input = this.series[series]!;
        key = seriesKey(input.name, input.labels ?? {});
        this.deltaKeys[series] = key;
      }
      const before = this.overlay.get(key);
      value += before ?? this.state.deltaTotals.get(key) ?? 0;
      this.moved.push([key, before]);
      this.overlay.set(key, value);
    }
    this.seriesIndex[i] = series;
    this.timestamps[i] = timestamp;
    this.values[i] = value;
    this.pointOfSample[i] = this.pointCount - 1;
    this.delta[i] = delta ? 1 : 0;
  }

  /** Refuses the current point: its samples are taken back and nothing it moved counts. */
  refuse(point: number, issue: Issue): void {
    this.count = this.pointStart;
    for (let m = this.moved.length - 1; m >= 0; m--) {
      const [key, total] = this.moved[m]!;
      if (total === undefined) this.overlay.delete(key);
      else this.overlay.set(key, total);
    }
    this.moved = [];
    this.rejected.set(point, issue);
  }

  /** The running totals of the accepted delta samples become the converter's state. */
  commit(accepted: Iterable<number>): void {
    for (const i of accepted) {
      if (this.delta[i] !== 1) continue;
      this.state.deltaTotals.set(this.deltaKeys[this.seriesIndex[i]!]!, this.values[i]!);
    }
  }

  /** The samples as objects (for tests and tools; the push path reads the columns). */
  get samples(): SampleInput[] {
    return Array.from({ length: this.count }, (_, i) => ({
      ...this.series[this.seriesIndex[i]!]!,
      value: this.values[i]!,
      timestamp: this.timestamps[i]!,
    }));
  }
}

export type ConvertedRequest = ColumnarRequest;
