import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../src/domain/metrics/identity.js';
import { bearer } from '../support/auth.js';
import { gql } from '../support/graphql.js';
import { seeded } from '../support/seeded.js';
import { type Service, settle, startService } from '../support/service.js';

const MIN = 60_000;
/** Four samples a minute for an hour, starting on a minute two hours ago. */
const BASE = Math.floor((Date.now() - 2 * 3_600_000) / MIN) * MIN;
const N = 240;
const times = Array.from({ length: N }, (_, i) => BASE + i * 15_000);
const random = seeded(7);
const cpuA = times.map(() => Math.round(random() * 10_000) / 100);
// host b follows host a two minutes (8 samples) later: b(t + 2 min) = 2·a(t) + 1.
const cpuB = times.map((_, i) => (i >= 8 ? Math.round((2 * cpuA[i - 8]! + 1) * 100) / 100 : 0));
// A cumulative counter that restarts once.
const requests = times.map((_, i) => (i < 100 ? i * 3 : (i - 100) * 2));

const iso = (ms: number) => new Date(ms).toISOString();
const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
const points = (values: number[], host: string) =>
  values.map((v, i) => ({
    asDouble: v,
    timeUnixNano: nanos(times[i]!),
    attributes: [{ key: 'host', value: { stringValue: host } }],
  }));

/** The sent samples of one series in [from, to). */
const sent = (values: number[], from: number, to: number) =>
  times.flatMap((t, i) => (t >= from && t < to ? [[t, values[i]!] as const] : []));

/** RFC 4180 records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

describe('series queries over GraphQL and series export over HTTP', () => {
  let service: Service & { url: string };
  const idA = seriesId('e2e_cpu', { host: 'a' });
  const idB = seriesId('e2e_cpu', { host: 'b' });

  beforeAll(async () => {
    service = await startService();
    const body = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'e2e_cpu',
                  unit: '%',
                  gauge: { dataPoints: [...points(cpuA, 'a'), ...points(cpuB, 'b')] },
                },
                {
                  name: 'e2e_requests_total',
                  sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: points(requests, 'a') },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${service.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    await settle(service);
  }, 60_000);
  afterAll(async () => {
    await service.stop();
  });

  it('searches series with a cursor, and lists label names and values', async () => {
    const page = `query ($after: String) {
      series(selector: { name: "e2e_cpu" }, first: 1, after: $after) {
        edges { cursor node { id name unit kind labels { name value } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type Page = {
      series: {
        edges: { cursor: string; node: { id: string; labels: { name: string; value: string }[] } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const first = await gql<Page>(service.url, page);
    expect(first.errors).toBeUndefined();
    expect(first.data!.series.pageInfo.hasNextPage).toBe(true);
    const second = await gql<Page>(service.url, page, { after: first.data!.series.pageInfo.endCursor });
    expect(second.data!.series.pageInfo.hasNextPage).toBe(false);
    const nodes = [...first.data!.series.edges, ...second.data!.series.edges].map((e) => e.node);
    expect(nodes.map((n) => n.id).sort()).toEqual([idA, idB].sort());
    expect(nodes.find((n) => n.id === idA)).toMatchObject({
      name: 'e2e_cpu',
      unit: '%',
      kind: 'gauge',
      labels: [{ name: 'host', value: 'a' }],
    });

    const labels = await gql<{ labelNames: string[]; labelValues: string[] }>(
      service.url,
      `{ labelNames(selector: { text: "e2e_" })
         labelValues(label: "host", selector: { name: "e2e_cpu", matchers: [{ label: "host", op: REGEX, value: "a|b" }] }) }`,
    );
    expect(labels.data).toEqual({ labelNames: ['host'], labelValues: ['a', 'b'] });
  });

  it('reads raw samples and exact buckets back, quantiles and rates included', async () => {
    const from = BASE + 37_000;
    const to = BASE + 47 * MIN + 13_000;
    const raw = await gql<{
      seriesRange: { series: { id: string }; points: { ts: string; value: number }[] }[];
    }>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!) {
        seriesRange(selector: { name: "e2e_cpu", matchers: [{ label: "host", op: NEQ, value: "b" }] }, from: $from, to: $to) {
          series { id } points { ts value }
        }
      }`,
      { from: iso(from), to: iso(to) },
    );
    expect(raw.errors).toBeUndefined();
    expect(raw.data!.seriesRange.map((r) => r.series.id)).toEqual([idA]);
    expect(raw.data!.seriesRange[0]!.points.map((p) => [Date.parse(p.ts), p.value])).toEqual(
      sent(cpuA, from, to),
    );

    const step = 5 * MIN;
    type Buckets = {
      seriesRange: {
        series: { id: string };
        buckets: {
          ts: string;
          count: number;
          sum: number;
          min: number;
          max: number;
          avg: number;
          p90: number;
          rate: number | null;
          fromRollups: boolean;
        }[];
      }[];
    };
    const bucketed = await gql<Buckets>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!, $step: Int!) {
        seriesRange(selector: { name: "e2e_cpu" }, from: $from, to: $to, stepMs: $step, functions: [P90]) {
          series { id } buckets { ts count sum min max avg p90 rate fromRollups }
        }
      }`,
      { from: iso(from), to: iso(to), step },
    );
    expect(bucketed.errors).toBeUndefined();
    for (const { series, buckets } of bucketed.data!.seriesRange) {
      const values = series.id === idA ? cpuA : cpuB;
      const expected = new Map<number, number[]>();
      for (const [t, v] of sent(values, from, to)) {
        const b = Math.floor(t / step) * step;
        expected.set(b, [...(expected.get(b) ?? []), v]);
      }
      expect(buckets.map((b) => Date.parse(b.ts))).toEqual([...expected.keys()]);
      for (const bucket of buckets) {
        const v = expected.get(Date.parse(bucket.ts))!;
        const sum = v.reduce((a, b) => a + b, 0);
        expect([bucket.count, bucket.min, bucket.max, bucket.rate]).toEqual([
          v.length,
          Math.min(...v),
          Math.max(...v),
          null,
        ]);
        expect(Math.abs(bucket.sum - sum)).toBeLessThanOrEqual(1e-9 * Math.abs(sum));
        const sorted = [...v].sort((a, b) => a - b);
        const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1]!;
        expect(Math.abs(bucket.p90 - p90)).toBeLessThanOrEqual(0.02 * Math.abs(p90));
      }
      // Edge buckets cut by the range are read from raw samples; whole ones from the 1-minute rollups.
      expect(buckets.some((b) => b.fromRollups)).toBe(true);
    }

    const rates = await gql<Buckets>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!) {
        seriesRange(selector: { name: "e2e_requests_total" }, from: $from, to: $to, stepMs: 600000, functions: [RATE]) {
          series { id } buckets { ts count sum min max avg p90 rate fromRollups }
        }
      }`,
      { from: iso(from), to: iso(to) },
    );
    const increases = new Map<number, number>();
    const counter = sent(requests, from, to);
    for (let i = 1; i < counter.length; i++) {
      const [t, v] = counter[i]!;
      const prev = counter[i - 1]![1];
      const b = Math.floor(t / 600_000) * 600_000;
      increases.set(b, (increases.get(b) ?? 0) + (v >= prev ? v - prev : v));
    }
    const buckets = rates.data!.seriesRange[0]!.buckets;
    expect(buckets.length).toBeGreaterThan(3);
    for (const b of buckets) {
      const t = Date.parse(b.ts);
      const seconds = (Math.min(t + 600_000, to) - Math.max(t, from)) / 1000;
      expect(b.rate).toBe((increases.get(t) ?? 0) / seconds);
    }
  });

  it('aggregates across series with top-k, and finds the lag between two series', async () => {
    const from = BASE;
    const to = BASE + N * 15_000;
    const top = await gql<{
      seriesAggregate: { labels: { value: string }[]; value: number; series: number }[];
    }>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!) {
        seriesAggregate(selector: { name: "e2e_cpu" }, from: $from, to: $to, fn: MAX, groupBy: ["host"], topK: 1) {
          labels { name value } value series
        }
      }`,
      { from: iso(from), to: iso(to) },
    );
    expect(top.errors).toBeUndefined();
    expect(top.data!.seriesAggregate).toEqual([
      { labels: [{ name: 'host', value: 'b' }], value: Math.max(...cpuB), series: 1 },
    ]);
    const count = await gql<{ seriesAggregate: { value: number }[] }>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!) { seriesAggregate(selector: { text: "e2e_cpu" }, from: $from, to: $to, fn: COUNT) { value } }`,
      { from: iso(from), to: iso(to) },
    );
    expect(count.data!.seriesAggregate).toEqual([{ value: 2 * N }]);

    type Correlation = {
      seriesCorrelation: {
        series: { id: string };
        best: { lag: number; lagMs: number; pearson: number; buckets: number };
        lags: { lag: number }[];
      }[];
    };
    const correlation = await gql<Correlation>(
      service.url,
      `query ($from: DateTime!, $to: DateTime!) {
        seriesCorrelation(
          a: { name: "e2e_cpu", matchers: [{ label: "host", value: "a" }] }
          b: { name: "e2e_cpu" }
          from: $from, to: $to, stepMs: 60000, minLag: -3, maxLag: 3
        ) { series { id } best { lag lagMs pearson buckets } lags { lag } }
      }`,
      { from: iso(from), to: iso(to) },
    );
    expect(correlation.errors).toBeUndefined();
    const [b] = correlation.data!.seriesCorrelation;
    expect(b!.series.id).toBe(idB);
    expect(b!.best).toMatchObject({ lag: 2, lagMs: 120_000, buckets: N / 4 - 2 });
    expect(b!.best.pearson).toBeCloseTo(1, 9);
    expect(b!.lags.map((l) => l.lag)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('names the field and the reason for bad arguments and answers over the point limit', async () => {
    const errorOf = async (query: string) => {
      const res = await gql(service.url, query);
      return res.errors?.[0]?.extensions;
    };
    const range = `from: "${iso(BASE)}", to: "${iso(BASE + 3_600_000)}"`;
    expect(
      await errorOf(
        `{ series(selector: { matchers: [{ label: "host", op: REGEX, value: "(" }] }) { edges { cursor } } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'selector.matchers[0].value' });
    expect(
      await errorOf(
        `{ seriesRange(selector: { name: "e2e_cpu" }, ${range}, limit: 100) { points { value } } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
    expect(
      await errorOf(
        `{ seriesRange(selector: { name: "e2e_cpu" }, ${range}, limit: 100001) { points { value } } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
    expect(
      await errorOf(
        `{ seriesRange(selector: { name: "e2e_cpu" }, ${range}, stepMs: 0) { points { value } } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'stepMs' });
    expect(
      await errorOf(
        `{ seriesAggregate(selector: { name: "e2e_cpu" }, ${range}, fn: MAX, topK: 1, bottomK: 1) { value } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'bottomK' });
    expect(
      await errorOf(
        `{ seriesCorrelation(a: { name: "e2e_cpu" }, b: { name: "e2e_cpu" }, ${range}, stepMs: 60000) { best { lag } } }`,
      ),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'a' });
  });

  it('exports the series as CSV and as Arrow, exactly as sent', async () => {
    const from = BASE + 1;
    const to = BASE + N * 15_000;
    const query = `name=e2e_cpu&match[]=${encodeURIComponent('host=~a|b')}&from=${iso(from)}&to=${to}`;
    const csv = await fetch(`${service.url}/v1/series/export?format=csv&${query}`, { headers: bearer() });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(await csv.text());
    expect(header).toEqual(['series_id', 'name', 'labels', 'timestamp', 'value']);
    const expected = [idA, idB]
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))
      .flatMap((id) =>
        sent(id === idA ? cpuA : cpuB, from, to).map(([t, v]) => [
          id,
          'e2e_cpu',
          JSON.stringify({ host: id === idA ? 'a' : 'b' }),
          iso(t),
          String(v),
        ]),
      );
    expect(rows).toEqual(expected);

    const arrow = await fetch(`${service.url}/v1/series/export?format=arrow&${query}`, { headers: bearer() });
    expect(arrow.status).toBe(200);
    expect(arrow.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream');
    const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'series_id:Utf8',
      'name:Utf8',
      'labels:Utf8',
      'timestamp:Timestamp<MILLISECOND, UTC>',
      'value:Float64',
    ]);
    expect(
      table.toArray().map((r) => [r.series_id, r.name, r.labels, iso(r.timestamp), String(r.value)]),
    ).toEqual(expected);
  });

  it('refuses a bad export request with the field and the reason', async () => {
    const bad = async (query: string) => {
      const res = await fetch(`${service.url}/v1/series/export?${query}`, { headers: bearer() });
      return [res.status, ((await res.json()) as { error: unknown }).error];
    };
    const range = `from=${iso(BASE)}&to=${iso(BASE + MIN)}`;
    expect(await bad(`format=xml&name=e2e_cpu&${range}`)).toEqual([
      400,
      { code: 'BAD_REQUEST', field: 'format', message: expect.any(String) },
    ]);
    expect(await bad(`format=csv&name=e2e_cpu&match[]=host&${range}`)).toEqual([
      400,
      { code: 'BAD_REQUEST', field: 'match[0]', message: expect.stringMatching(/label=value/) },
    ]);
    expect(await bad(`format=csv&match[]=${encodeURIComponent('host=~(')}&${range}`)).toEqual([
      400,
      { code: 'BAD_REQUEST', field: 'match[0]', message: expect.stringMatching(/RE2/) },
    ]);
    expect(await bad(`format=csv&name=e2e_cpu&from=${iso(BASE)}&to=${iso(BASE)}`)).toEqual([
      400,
      { code: 'BAD_REQUEST', field: 'to', message: 'must be after from' },
    ]);
    expect(await bad(`format=csv&${range}`)).toEqual([
      400,
      { code: 'BAD_REQUEST', field: 'name', message: expect.any(String) },
    ]);
    const anonymous = await fetch(`${service.url}/v1/series/export?format=csv&name=e2e_cpu&${range}`);
    expect(anonymous.status).toBe(401);
  });
});
