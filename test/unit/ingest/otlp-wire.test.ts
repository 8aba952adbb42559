import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConvertedRequest } from '../../../src/ingest/otlp/convert.js';
import { createOtlpConverter } from '../../../src/ingest/otlp/convert.js';
import { ExportMetricsServiceRequest } from '../../../src/ingest/otlp/schema.js';
import { WireError } from '../../../src/ingest/otlp/wire.js';

const NOW = 1_795_000_000_000;
const encode = (request: unknown) =>
  Buffer.from(
    ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(request as never)).finish(),
  );

/** What a conversion gives, all of it: samples, refusals, and every data point's path. */
function outcome(out: ConvertedRequest) {
  return {
    samples: out.samples,
    pointOfSample: Array.from(out.pointOfSample.subarray(0, out.count)),
    points: Array.from({ length: out.pointCount }, (_, p) => out.pointPath(p)),
    rejected: [...out.rejected],
  };
}

/** The reference: protobufjs decoding, `toObject` as the edge did it, then the object conversion. */
async function viaProtobufjs(bytes: Buffer, convert = createOtlpConverter(() => NOW)) {
  const object = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
  });
  return outcome(await convert(object));
}

async function viaWire(bytes: Buffer, convert = createOtlpConverter(() => NOW)) {
  return outcome(await convert.protobuf(bytes));
}

const ns = (ms: number) => String(BigInt(ms) * 1_000_000n);
const kv = (key: string, value: unknown) => ({ key, value });

/** One request with every attribute value type, resource and scope attributes, and every metric kind. */
const everything = {
  resourceMetrics: [
    {
      resource: {
        attributes: [
          kv('service.name', { stringValue: 'chéckout-✓' }),
          kv('service.instance.id', { stringValue: 'i-1' }),
          kv('host.arch', { stringValue: 'x64' }),
        ],
      },
      scopeMetrics: [
        {
          scope: { name: 'lib', version: '1', attributes: [kv('scope.attr', { stringValue: 'kept out' })] },
          metrics: [
            {
              name: 'temperature_°C',
              unit: 'Cel',
              gauge: {
                dataPoints: [
                  {
                    timeUnixNano: ns(NOW - 1000),
                    asDouble: 21.5,
                    attributes: [
                      kv('s', { stringValue: 'ünïcode 🌡' }),
                      kv('b', { boolValue: true }),
                      kv('f', { boolValue: false }),
                      kv('i', { intValue: '-9223372036854775808' }),
                      kv('big', { intValue: '9007199254740993' }),
                      kv('d', { doubleValue: 0.1 }),
                      kv('nan', { doubleValue: Number.NaN }),
                      kv('arr', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }, {}] } }),
                      kv('nested', {
                        arrayValue: { values: [{ arrayValue: { values: [{ boolValue: true }] } }] },
                      }),
                      kv('empty_arr', { arrayValue: {} }),
                      kv('kv', { kvlistValue: { values: [kv('x', { stringValue: 'y' })] } }),
                      kv('bytes', { bytesValue: Buffer.from([0, 1, 2, 250]) }),
                      kv('none', {}),
                      kv('s', { stringValue: 'overridden' }),
                    ],
                  },
                  { timeUnixNano: ns(NOW - 999), asInt: '-42' },
                  { timeUnixNano: ns(NOW - 998), asInt: '9223372036854775807' },
                  { timeUnixNano: ns(NOW - 997), asDouble: 1.7976931348623157e308 },
                  { timeUnixNano: ns(NOW - 996), asDouble: -0 },
                  { asDouble: 5 },
                  { timeUnixNano: '0', asDouble: 6 },
                  { timeUnixNano: ns(NOW), flags: 1, asDouble: 1 },
                  { timeUnixNano: ns(NOW) },
                  { timeUnixNano: '1000000000000000000000' as never, asDouble: Number.POSITIVE_INFINITY },
                ],
              },
            },
            { name: 'no_points', gauge: {} },
            { name: 'no_data' },
            {
              name: 'jobs_total',
              sum: {
                aggregationTemporality: 1,
                isMonotonic: true,
                dataPoints: [
                  { timeUnixNano: ns(NOW - 10), asInt: '5', attributes: [kv('q', { stringValue: 'a' })] },
                  { timeUnixNano: ns(NOW - 9), asInt: '3', attributes: [kv('q', { stringValue: 'a' })] },
                  {
                    timeUnixNano: ns(NOW - 8),
                    flags: 1,
                    asInt: '100',
                    attributes: [kv('q', { stringValue: 'a' })],
                  },
                  { timeUnixNano: ns(NOW - 7), asDouble: 0.5, attributes: [kv('q', { stringValue: 'b' })] },
                ],
              },
            },
            {
              name: 'balance',
              sum: {
                aggregationTemporality: 1,
                isMonotonic: false,
                dataPoints: [{ asDouble: -3, timeUnixNano: ns(NOW) }],
              },
            },
            {
              name: 'requests_total',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: true,
                dataPoints: [{ asInt: '7', timeUnixNano: ns(NOW) }],
              },
            },
            {
              name: 'latency',
              unit: 's',
              histogram: {
                aggregationTemporality: 1,
                dataPoints: [
                  {
                    timeUnixNano: ns(NOW - 5),
                    count: '6',
                    sum: 2.5,
                    bucketCounts: ['1', '2', '3'],
                    explicitBounds: [0.1, 1],
                    attributes: [kv('route', { stringValue: '/a' })],
                  },
                  { timeUnixNano: ns(NOW - 4), count: '4', bucketCounts: [], explicitBounds: [] },
                  { timeUnixNano: ns(NOW - 3), count: '1', bucketCounts: ['1'], explicitBounds: [1, 2] },
                ],
              },
            },
            {
              name: 'rpc',
              summary: {
                dataPoints: [
                  {
                    timeUnixNano: ns(NOW - 2),
                    count: '3',
                    sum: 9,
                    quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 0.99 }, {}],
                  },
                ],
              },
            },
            {
              name: 'exp',
              exponentialHistogram: { dataPoints: [{ count: '1', scale: 2, timeUnixNano: ns(NOW) }] },
            },
          ],
        },
        { metrics: [] },
      ],
    },
    {},
    {
      resource: {},
      scopeMetrics: [{ metrics: [{ name: 'second_resource', gauge: { dataPoints: [{ asDouble: 1 }] } }] }],
    },
  ],
};

describe('OTLP protobuf decoding straight into columns', () => {
  it('gives what protobufjs decoding and the object conversion give, for every value type and metric kind', async () => {
    const bytes = encode(everything);
    const wire = await viaWire(bytes);
    expect(wire).toEqual(await viaProtobufjs(bytes));
    // And it is not trivially so: every kind of point made samples or refusals.
    expect(wire.samples.length).toBeGreaterThan(20);
    expect(wire.rejected.map(([, issue]) => issue.message)).toEqual([
      'no recorded value',
      'has neither asDouble nor asInt',
      'no recorded value',
      'has 1 counts for 2 bounds (needs bounds + 1)',
      'exponential histograms are not supported; configure the exporter for explicit-bucket histograms',
    ]);
    expect(wire.samples[0]!.labels).toMatchObject({
      'service.name': 'chéckout-✓',
      s: 'overridden',
      b: 'true',
      i: '-9223372036854775808',
      big: '9007199254740993',
      arr: '["a","2",""]',
      nested: '["[\\"true\\"]"]',
      empty_arr: '[]',
      kv: '',
      bytes: 'AAEC+g==',
      none: '',
    });
  });

  it('keeps delta running totals across requests, shared by both decodings', async () => {
    const convert = createOtlpConverter(() => NOW);
    const reference = createOtlpConverter(() => NOW);
    const bytes = encode(everything);
    for (let i = 0; i < 3; i++) {
      const wire = await convert.protobuf(bytes);
      const object = await reference(
        ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(bytes), {
          longs: String,
          enums: Number,
          bytes: String,
        }),
      );
      expect(outcome(wire)).toEqual(outcome(object));
      const all = Array.from({ length: wire.count }, (_, k) => k);
      wire.commit(all);
      object.commit(all);
    }
    // Then the JSON shape through the same converter continues the same totals.
    const json = await convert(JSON.parse(JSON.stringify(everything)) as unknown);
    const jobs = json.samples.filter((s) => s.name === 'jobs_total').map((s) => s.value);
    expect(jobs).toEqual([5 * 3 + 3 * 3 + 5, 5 * 3 + 3 * 3 + 5 + 3, 0.5 * 4]);
  });

  it('matches protobufjs on generated requests', async () => {
    const text = fc.string({ maxLength: 6 });
    const anyValue = fc.oneof(
      text.map((stringValue) => ({ stringValue })),
      fc.boolean().map((boolValue) => ({ boolValue })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => ({ intValue: String(v) })),
      fc.double().map((doubleValue) => ({ doubleValue })),
      fc
        .array(
          text.map((stringValue) => ({ stringValue })),
          { maxLength: 3 },
        )
        .map((values) => ({ arrayValue: { values } })),
      fc.constant({}),
    );
    const attributes = fc.array(
      fc.record({ key: fc.constantFrom('a', 'b', 'service.name', 'ключ'), value: anyValue }),
      {
        maxLength: 4,
      },
    );
    const time = fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: NOW - 86_400_000, max: NOW }).map(ns),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
    );
    const numberPoint = fc.record(
      {
        attributes,
        timeUnixNano: time,
        asDouble: fc.double(),
        asInt: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
        flags: fc.constantFrom(0, 1, 2),
      },
      { requiredKeys: [] },
    );
    const metric = fc.oneof(
      fc.record({
        name: text,
        unit: text,
        gauge: fc.record({ dataPoints: fc.array(numberPoint, { maxLength: 4 }) }),
      }),
      fc.record({
        name: text,
        sum: fc.record({
          aggregationTemporality: fc.constantFrom(0, 1, 2),
          isMonotonic: fc.boolean(),
          dataPoints: fc.array(numberPoint, { maxLength: 4 }),
        }),
      }),
      fc.record({
        name: text,
        histogram: fc.record({
          aggregationTemporality: fc.constantFrom(1, 2),
          dataPoints: fc.array(
            fc.record({
              attributes,
              timeUnixNano: time,
              count: fc.nat().map(String),
              bucketCounts: fc.array(fc.nat().map(String), { maxLength: 3 }),
              explicitBounds: fc.array(fc.double({ noNaN: true }), { maxLength: 2 }),
            }),
            { maxLength: 2 },
          ),
        }),
      }),
    );
    const request = fc.record({
      resourceMetrics: fc.array(
        fc.record({
          resource: fc.record({ attributes }),
          scopeMetrics: fc.array(fc.record({ metrics: fc.array(metric, { maxLength: 3 }) }), {
            maxLength: 2,
          }),
        }),
        { maxLength: 2 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        const bytes = encode(generated);
        expect(await viaWire(bytes)).toEqual(await viaProtobufjs(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses truncated and malformed bytes with a WireError, never anything else', async () => {
    const bytes = encode(everything);
    const convert = createOtlpConverter(() => NOW);
    let refused = 0;
    for (let cut = 1; cut < bytes.length; cut += 7) {
      try {
        await convert.protobuf(bytes.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(WireError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    for (const garbage of [
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length past the end
      Buffer.from([0x08, 0x01]), // resourceMetrics as a varint
      Buffer.from([0x00]), // field 0
      Buffer.from([0x0f]), // wire type 7
      Buffer.from([0x0a, 0x80]), // a truncated varint
      Buffer.alloc(100_000, 0x0b), // groups (field 1) nested 100,000 deep: refused, not a stack overflow
      Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00]), // a length of 2^32: not read as 0
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10, 0x00]), // a tag beyond 32 bits: not read as field 0
    ])
      await expect(convert.protobuf(garbage)).rejects.toBeInstanceOf(WireError);
    // Unknown fields of every wire type are skipped.
    const unknown = Buffer.concat([
      Buffer.from([0x10, 0x05, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x2a, 0x01, 0x00]),
      bytes,
    ]);
    expect(await viaWire(unknown)).toEqual(await viaProtobufjs(unknown));
  });
});
