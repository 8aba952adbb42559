import { describe, expect, it } from 'vitest';
import { createOtlpConverter } from '../../../src/ingest/otlp/convert.js';

const sum = (value: number, monotonic = true) => ({
  resourceMetrics: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'svc' } },
          { key: 'host.arch', value: { stringValue: 'x64' } },
        ],
      },
      scopeMetrics: [
        {
          metrics: [
            {
              name: 'jobs_total',
              sum: {
                aggregationTemporality: 1,
                isMonotonic: monotonic,
                dataPoints: [{ asInt: String(value), timeUnixNano: '1795000000000000000' }],
              },
            },
          ],
        },
      ],
    },
  ],
});

describe('OTLP conversion', () => {
  it('accumulates delta sums into running totals, committed only for accepted samples', async () => {
    const convert = createOtlpConverter(() => 0);
    const first = await convert(sum(5));
    expect(first.samples).toEqual([
      {
        name: 'jobs_total',
        labels: { 'service.name': 'svc' },
        unit: '',
        kind: 'counter',
        value: 5,
        timestamp: 1_795_000_000_000,
      },
    ]);
    first.commit([0]);
    const refused = await convert(sum(3));
    expect(refused.samples[0]!.value).toBe(8);
    // Not committed (say the buffer was full and the client will retry): the retry counts it once.
    const retry = await convert(sum(3));
    expect(retry.samples[0]!.value).toBe(8);
    retry.commit([0]);
    expect((await convert(sum(1))).samples[0]!.value).toBe(9);
  });

  it('keeps non-monotonic delta sums as running totals too (as gauges)', async () => {
    const convert = createOtlpConverter(() => 0);
    const a = await convert(sum(5, false));
    a.commit([0]);
    const b = await convert(sum(-2, false));
    expect(b.samples[0]).toMatchObject({ kind: 'gauge', value: 3 });
  });

  it('keeps count and sum of a histogram without buckets, and refuses a bad point without touching the others', async () => {
    const convert = createOtlpConverter(() => 0);
    const out = await convert({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [{ count: '4', sum: 10, bucketCounts: [], explicitBounds: [] }],
                  },
                },
                { name: 'e', exponentialHistogram: { dataPoints: [{ count: '1' }] } },
              ],
            },
          ],
        },
      ],
    });
    expect(out.samples.map((s) => [s.name, s.value])).toEqual([
      ['h_count', 4],
      ['h_sum', 10],
    ]);
    expect([...out.rejected.values()][0]!.message).toMatch(/exponential histograms are not supported/);
  });
});
