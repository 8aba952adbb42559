import type { TimeSlicer } from '../../runtime/yield.js';
import { type ConvertedRequest, ConverterState } from './columns.js';
import {
  attributes,
  isObj,
  list,
  METRIC_DATA,
  metricContext,
  objectPoint,
  resourceLabelsOf,
} from './points.js';
import { decodeProtobufRequest } from './wire.js';

export type { ConvertedRequest } from './columns.js';

type Obj = Record<string, unknown>;

/**
 * Converts OTLP metrics requests into the agent's columns: `convert` takes a request parsed from JSON
 * (or decoded by protobufjs: the same shape), `convert.protobuf` the protobuf bytes themselves, walked
 * once (see wire.ts). Sums that are monotonic become counters and the rest gauges; delta temporality
 * is accumulated into cumulative values per series, so counters stay counters; the running totals
 * become the converter's state only for samples that were accepted (`commit`), so a refused or
 * retried request never counts twice. Both paths share that state and give the same samples.
 */
export function createOtlpConverter(now: () => number = Date.now) {
  const state = new ConverterState();

  async function convert(request: unknown, slicer?: TimeSlicer): Promise<ConvertedRequest> {
    const out = state.begin();
    const at = now();
    for (const [r, rm] of list(isObj(request) ? request.resourceMetrics : undefined).entries()) {
      if (!isObj(rm)) continue;
      const resourceLabels = resourceLabelsOf(
        attributes(isObj(rm.resource) ? rm.resource.attributes : undefined),
      );
      for (const [s, sm] of list(rm.scopeMetrics).entries()) {
        if (!isObj(sm)) continue;
        for (const [m, metric] of list(sm.metrics).entries()) {
          if (!isObj(metric)) continue;
          const data = METRIC_DATA.find((k) => isObj(metric[k]));
          if (!data) continue;
          const body = metric[data] as Obj;
          const context = metricContext(out, `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`, {
            name: typeof metric.name === 'string' ? metric.name : '',
            unit: typeof metric.unit === 'string' ? metric.unit : '',
            data,
            delta: Number(body.aggregationTemporality ?? 0) === 1,
            counter: data === 'sum' && body.isMonotonic === true,
            resourceLabels,
          });
          const points = list(body.dataPoints);
          for (let d = 0; d < points.length; d++) {
            // A large request gives the event loop a turn now and then (health probes, other requests).
            if (slicer?.due()) await slicer.yield();
            objectPoint(out, context, points[d], d, at);
          }
        }
      }
    }
    return out;
  }

  return Object.assign(convert, {
    /** The same from the protobuf bytes; a malformed body throws a WireError naming what is wrong. */
    protobuf: (body: Uint8Array, slicer?: TimeSlicer): Promise<ConvertedRequest> =>
      decodeProtobufRequest(body, state.begin(), now(), slicer),
  });
}
