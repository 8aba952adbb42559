import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

interface Change {
  finding: string;
  period: number | null;
  periodMs: number | null;
  frequencies: number[];
  position: string | null;
}

describe('GraphQL: periodicity of an ingested series', () => {
  let service: Service & { url: string };
  const T0 = Date.now() - 600_000;

  beforeAll(async () => {
    const pipelines = join(tempDir('gql-season-'), 'pipelines.json');
    writeFileSync(
      pipelines,
      JSON.stringify([
        {
          id: 'season',
          route: [{ name: 'load' }],
          quality: { allowedLatenessMs: 0, requiredLabels: [] },
          analytics: {
            windows: [{ name: 'long', ms: 600_000, maxSamples: 256 }],
            periodicity: { window: 'long', every: 64, minSamples: 64 },
          },
        },
      ]),
    );
    service = await startService({ PIPELINES_FILE: pipelines });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('delivers the seasonality found live, then answers it from the table', async () => {
    const client = wsClient(service.url);
    const live = collect<Change>(
      client,
      'subscription { periodicityChanged(after: "0", pipelineId: "season") { finding period periodMs frequencies position } }',
    );
    // A period of 16 samples, one a second.
    const samples = Array.from({ length: 300 }, (_, i) => ({
      name: 'load',
      kind: 'gauge',
      value: 20 + 5 * Math.sin((2 * Math.PI * i) / 16) + 0.3 * Math.sin(i * 2.3),
      timestamp: new Date(T0 + i * 1000).toISOString(),
    }));
    const ingested = await gql(
      service.url,
      'mutation ($s: [SampleInput!]!) { ingestMetrics(samples: $s) { ... on IngestResult { accepted } ... on Error { code message } } }',
      { s: samples },
    );
    expect(ingested).toEqual({ data: { ingestMetrics: { accepted: 300 } } });
    await live.until((items) => items.some((c) => c.finding === 'seasonalityDetected'));
    expect(live.items.find((c) => c.finding === 'seasonalityDetected')).toMatchObject({
      period: 16,
      periodMs: 16_000,
    });
    live.dispose();
    await client.dispose();

    await settle(service);
    const rows = await gql<{ periodicity: { edges: { node: Change }[] } }>(
      service.url,
      'query ($from: DateTime!, $to: DateTime!) { periodicity(from: $from, to: $to, first: 500) { edges { node { finding period frequencies } } } }',
      { from: new Date(T0).toISOString(), to: new Date().toISOString() },
    );
    const changes = rows.data?.periodicity.edges.map((e) => e.node) ?? [];
    expect(changes.map((c) => c.finding)).toContain('seasonalityDetected');
    expect(changes.find((c) => c.finding === 'frequenciesChanged')?.frequencies).toEqual([1 / 16]);
  });
});
