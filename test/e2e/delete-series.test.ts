import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { createKey, gql } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const DELETE = `mutation ($name: String!, $reason: String) { deleteSeries(selector: { name: $name }, reason: $reason) {
  ... on SeriesDeletion { seriesIds position tables { table removed } } ... on Error { code message } } }`;

/** Fifty minutes of a gauge every 10 s with one spike near the end (an anomaly for the default analytics). */
const history = (name: string) => {
  const now = Date.now();
  return Array.from({ length: 300 }, (_, i) => ({
    name,
    labels: [{ name: 'host', value: 'web-1' }],
    kind: 'gauge',
    value: i === 290 ? 97 : 40 + Math.sin(i / 5) * 3,
    timestamp: new Date(now - (300 - i) * 10_000).toISOString(),
  }));
};

describe('secure disposal of series', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    service = await startService({ DEFAULT_ANALYTICS: 'on' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  const counts = async (name: string) => {
    const r = await gql<{
      seriesRange: { buckets: unknown[] }[];
      anomalies: { edges: unknown[] };
      series: { edges: unknown[] };
    }>(
      service.url,
      `query ($name: String!) {
        seriesRange(selector: { name: $name }, from: "2020-01-01", to: "2100-01-01", stepMs: 3600000) { buckets { ts } }
        anomalies(from: "2020-01-01", to: "2100-01-01", first: 100) { edges { node { name } } }
        series(selector: { name: $name }) { edges { node { id } } } }`,
      { name },
    );
    const anomalies = (r.data!.anomalies.edges as { node: { name: string } }[]).filter(
      (e) => e.node.name === name,
    );
    return {
      ranges: r.data!.seriesRange.length,
      anomalies: anomalies.length,
      catalogue: r.data!.series.edges.length,
    };
  };

  it('removes samples, rollups and findings of the selected series only, and records who asked', async () => {
    for (const name of ['disposed_cpu', 'kept_cpu'])
      expect(await gql(service.url, INGEST, { samples: history(name) })).toMatchObject({
        data: { ingestMetrics: { accepted: 300 } },
      });
    await settle(service);
    for (let i = 0; i < 100 && (await counts('disposed_cpu')).anomalies === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await settle(service);
    }
    const before = await counts('disposed_cpu');
    expect(before).toMatchObject({ ranges: 1, catalogue: 1 });
    expect(before.anomalies).toBeGreaterThan(0);

    const viewer = await createKey(service.url, 'deletion-viewer', 'viewer');
    const refused = await gql<{ deleteSeries: { code: string } }>(
      service.url,
      DELETE,
      { name: 'disposed_cpu' },
      bearer(viewer.key),
    );
    expect(refused.data?.deleteSeries.code).toBe('FORBIDDEN');

    const deleted = await gql<{
      deleteSeries: { seriesIds: string[]; position: string; tables: { table: string; removed: number }[] };
    }>(service.url, DELETE, { name: 'disposed_cpu', reason: 'customer asked' });
    const removed = Object.fromEntries(deleted.data!.deleteSeries.tables.map((t) => [t.table, t.removed]));
    expect(deleted.data!.deleteSeries.seriesIds).toHaveLength(1);
    expect(removed).toMatchObject({ samples: 300, anomalies: before.anomalies, series: 1 });
    expect(removed.samples_1m).toBeGreaterThan(0);
    expect(await counts('disposed_cpu')).toEqual({ ranges: 0, anomalies: 0, catalogue: 0 });
    expect(await counts('kept_cpu')).toMatchObject({ ranges: 1, catalogue: 1 });

    const audit = await gql<{
      auditEvents: { edges: { node: { type: string; principal: string; data: { reason?: string } } }[] };
    }>(
      service.url,
      'query { auditEvents(filter: { category: "deletion" }, first: 10) { edges { node { type principal data } } } }',
    );
    const facts = audit.data!.auditEvents.edges.map((e) => e.node);
    expect(facts.map((f) => f.type)).toEqual(['seriesDeletionRequested', 'seriesDeleted']);
    expect(facts[0]!.principal).toMatch(/^apikey:/);
    expect(facts[0]!.data.reason).toBe('customer asked');
    expect(
      (await gql<{ deleteSeries: { code: string } }>(service.url, DELETE, { name: 'nothing_here' })).data
        ?.deleteSeries.code,
    ).toBe('VALIDATION_FAILED');
  }, 120_000);
});
