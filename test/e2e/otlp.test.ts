import { gzipSync } from 'node:zlib';
import { OTLPMetricExporter as OtlpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../src/domain/metrics/identity.js';
import { Status } from '../../src/ingest/otlp/schema.js';
import { rawRange } from '../../src/projections/metric-series/queries.js';
import { queryRows } from '../../src/stores/clickhouse/client.js';
import { bearer } from '../support/auth.js';
import { type Service, settle, startService } from '../support/service.js';

const now = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });

/** Values of one series, oldest first. */
async function values(service: Service, name: string, labels: Record<string, string>): Promise<number[]> {
  const points = await rawRange(service.analytics, { seriesId: seriesId(name, labels) }, now());
  return points.map((p) => p.value);
}

function meterWith(exporter: PushMetricExporter, service: string) {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [reader],
  });
  return { meter: provider.getMeter('e2e'), reader, provider };
}

describe('OTLP/HTTP ingest with the OpenTelemetry JS SDK', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    // These tests send malformed and huge requests at once to check each answer: load shedding and the
    // concurrency bound (tested in backpressure.test.ts) would answer some of them 503 instead.
    service = await startService({
      INGEST_MAX_EVENT_LOOP_LAG_MS: '60000',
      OTLP_MAX_CONCURRENT_REQUESTS: '1000',
    });
  });
  afterAll(async () => {
    await service.stop();
  });

  for (const [format, make] of [
    ['JSON', (url: string) => new OtlpJsonExporter({ url, headers: bearer() })],
    [
      'protobuf + gzip',
      (url: string) => new OtlpProtoExporter({ url, compression: 'gzip' as never, headers: bearer() }),
    ],
  ] as const) {
    it(`stores counters, gauges and histograms exported as ${format}, with exact values`, async () => {
      const app = format === 'JSON' ? 'checkout' : 'billing';
      const { meter, reader, provider } = meterWith(make(`${service.url}/v1/metrics`), app);
      const orders = meter.createCounter('orders_total');
      const depth = meter.createGauge('queue_depth');
      const latency = meter.createHistogram('request_latency_ms', {
        advice: { explicitBucketBoundaries: [10, 50, 100] },
      });
      orders.add(5, { region: 'eu' });
      orders.add(2, { region: 'us' });
      depth.record(42.5, { queue: 'emails' });
      for (const ms of [3, 7, 20, 60, 70, 500]) latency.record(ms, { route: '/pay' });
      await reader.forceFlush();
      orders.add(3, { region: 'eu' });
      depth.record(40, { queue: 'emails' });
      await reader.forceFlush();
      await settle(service);

      const svc = { 'service.name': app };
      expect(await values(service, 'orders_total', { ...svc, region: 'eu' })).toEqual([5, 8]);
      expect(await values(service, 'orders_total', { ...svc, region: 'us' })).toEqual([2, 2]);
      expect(await values(service, 'queue_depth', { ...svc, queue: 'emails' })).toEqual([42.5, 40]);
      const bucket = (le: string) =>
        values(service, 'request_latency_ms_bucket', { ...svc, route: '/pay', le });
      expect(await bucket('10')).toEqual([2, 2]);
      expect(await bucket('50')).toEqual([3, 3]);
      expect(await bucket('100')).toEqual([5, 5]);
      expect(await bucket('+Inf')).toEqual([6, 6]);
      expect(await values(service, 'request_latency_ms_count', { ...svc, route: '/pay' })).toEqual([6, 6]);
      expect(await values(service, 'request_latency_ms_sum', { ...svc, route: '/pay' })).toEqual([660, 660]);
      const [kinds] = await queryRows<{ kinds: string[] }>(
        service.analytics,
        `SELECT groupUniqArray(kind) AS kinds FROM all_use.series FINAL WHERE labels['service.name'] = {app:String}`,
        { app },
      );
      expect([...kinds!.kinds].sort()).toEqual(['counter', 'gauge', 'histogram']);
      await provider.shutdown();
    });
  }

  const post = (body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${service.url}/v1/metrics`, {
      method: 'POST',
      body: body as BodyInit,
      headers: { ...bearer(), ...headers },
    });
  const gaugeRequest = (dataPoints: unknown[], name = 'm') =>
    JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints } }] }] }] });
  const ns = () => String(BigInt(Date.now()) * 1_000_000n);

  it('answers malformed requests with a clear 4xx and keeps serving', async () => {
    const cases: [string, Promise<Response>, number, RegExp][] = [
      [
        'bad protobuf',
        post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' }),
        400,
        /not a valid OTLP ExportMetricsServiceRequest/,
      ],
      [
        'bad JSON',
        post('{"resourceMetrics": [', { 'content-type': 'application/json' }),
        400,
        /not valid JSON/,
      ],
      [
        'wrong shape',
        post('{"resourceMetrics": "all of them"}', { 'content-type': 'application/json' }),
        400,
        /resourceMetrics must be an array/,
      ],
      [
        'wrong value type',
        post(gaugeRequest([{ asDouble: 'high', timeUnixNano: ns() }]), {
          'content-type': 'application/json',
        }),
        400,
        /asDouble\): must be a number, got "high"/,
      ],
      [
        'NaN',
        post(gaugeRequest([{ asDouble: 'NaN', timeUnixNano: ns() }]), { 'content-type': 'application/json' }),
        400,
        /NaN is not accepted/,
      ],
      [
        'huge label set',
        post(
          gaugeRequest([
            {
              asDouble: 1,
              timeUnixNano: ns(),
              attributes: Array.from({ length: 200 }, (_, i) => ({
                key: `k${i}`,
                value: { stringValue: 'v' },
              })),
            },
          ]),
          { 'content-type': 'application/json' },
        ),
        400,
        /has 200 labels; at most 64/,
      ],
      [
        'bad metric name',
        post(gaugeRequest([{ asDouble: 1, timeUnixNano: ns() }], '9 lives'), {
          'content-type': 'application/json',
        }),
        400,
        /name\): '9 lives' must match/,
      ],
      [
        'bad gzip',
        post(Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        400,
        /not valid gzip/,
      ],
      [
        'timestamp of 1e30 ns',
        post(gaugeRequest([{ asDouble: 1, timeUnixNano: '1000000000000000000000000000000' }]), {
          'content-type': 'application/json',
        }),
        400,
        /\(timestamp\): 1e\+24 ms since the epoch is more than 300s in the future/,
      ],
      [
        'timestamp of 1e30 ns as a JSON number',
        post(gaugeRequest([{ asDouble: 1, timeUnixNano: 1e30 }]), { 'content-type': 'application/json' }),
        400,
        /more than 300s in the future/,
      ],
      ['unknown type', post('x', { 'content-type': 'text/plain' }), 415, /not supported/],
      [
        '50 MB body',
        post(Buffer.alloc(50 * 1024 * 1024, 0x20), { 'content-type': 'application/json' }),
        413,
        /over the limit/,
      ],
      [
        'gzip bomb',
        post(gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        }),
        413,
        /decompressed body is over the limit/,
      ],
    ];
    for (const [what, response, status, message] of cases) {
      const res = await response.catch((error: Error) => {
        throw new Error(`${what}: ${error.message}`);
      });
      const body = res.headers.get('content-type')?.includes('protobuf')
        ? (Status.toObject(Status.decode(new Uint8Array(await res.arrayBuffer()))) as {
            code: number;
            message: string;
          })
        : ((await res.json()) as { code: number; message: string });
      expect([what, res.status, body.message]).toEqual([what, status, expect.stringMatching(message)]);
    }
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    // Wrong method on the route: 405.
    expect((await fetch(`${service.url}/v1/metrics`)).status).toBe(405);
  });

  it('keeps the valid points of a mixed request and reports the rest as a partial success', async () => {
    const res = await post(
      gaugeRequest(
        [
          { asDouble: 1.25, timeUnixNano: ns(), attributes: [{ key: 'n', value: { stringValue: 'good' } }] },
          { asDouble: 'NaN', timeUnixNano: ns(), attributes: [{ key: 'n', value: { stringValue: 'bad' } }] },
          { asInt: '7', timeUnixNano: ns(), attributes: [{ key: 'n', value: { stringValue: 'int' } }] },
        ],
        'mixed_gauge',
      ),
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      partialSuccess: { rejectedDataPoints: string; errorMessage: string };
    };
    expect(body.partialSuccess.rejectedDataPoints).toBe('1');
    expect(body.partialSuccess.errorMessage).toMatch(/dataPoints\[1\] \(value\): NaN is not accepted/);
    await settle(service);
    expect(await values(service, 'mixed_gauge', { n: 'good' })).toEqual([1.25]);
    expect(await values(service, 'mixed_gauge', { n: 'int' })).toEqual([7]);
    expect(await values(service, 'mixed_gauge', { n: 'bad' })).toEqual([]);
  });

  it('answers only once the samples are in the log, and a retry with the same Idempotency-Key records nothing and gets the same answer', async () => {
    const body = gaugeRequest(
      [
        { asDouble: 3.5, timeUnixNano: ns(), attributes: [{ key: 'n', value: { stringValue: 'once' } }] },
        { asDouble: 'NaN', timeUnixNano: ns(), attributes: [{ key: 'n', value: { stringValue: 'bad' } }] },
      ],
      'keyed_gauge',
    );
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'req-42' };
    const first = await post(body, headers);
    const firstBody = await first.json();
    expect([first.status, first.headers.get('idempotency-replayed')]).toEqual([200, null]);
    // Acknowledged means in the log already: no flush, no wait.
    const logged: number[] = [];
    for await (const event of service.events.readStream('samples-otlp', {
      direction: 'backwards',
      maxCount: 1,
    }))
      logged.push(...(await import('../../src/domain/metrics/batch.js')).decodeBatch(event.data).values);
    expect(logged).toEqual([3.5]);
    const again = await post(body, headers);
    expect([again.status, again.headers.get('idempotency-replayed'), await again.json()]).toEqual([
      200,
      'true',
      firstBody,
    ]);
    const bad = await post(body, { ...headers, 'idempotency-key': 'has spaces' });
    expect(bad.status).toBe(400);
    await settle(service);
    expect(await values(service, 'keyed_gauge', { n: 'once' })).toEqual([3.5]);
  });
});
