import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

interface Anomaly {
  name: string;
  value: number;
  score: number;
  pipelineId: string;
}
interface Transition {
  rule: string;
  transition: string;
  value: number;
}

describe('npm start with no settings', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    // The product's defaults: nothing configured, the default analytics on (the test helper turns them off).
    service = await startService({ DEFAULT_ANALYTICS: 'on' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('analyses a series it has never been told about: a spike sent over OTLP arrives as an anomaly, then an alert', async () => {
    const pipelines = await gql<{
      pipelines: { edges: { node: { id: string; definition: { output: string } } }[] };
    }>(service.url, '{ pipelines { edges { node { id definition } } } }');
    expect(pipelines.data!.pipelines.edges.map((e) => [e.node.id, e.node.definition.output])).toEqual([
      ['default_analytics', 'none'],
    ]);
    const client = wsClient(service.url);
    const anomalies = collect<Anomaly>(
      client,
      'subscription { anomalyDetected(minScore: 0.5) { name value score pipelineId } }',
    );
    const alerts = collect<Transition>(
      client,
      'subscription { alertChanged(rule: "anomaly") { rule transition value } }',
    );
    const exporter = new OTLPMetricExporter({ url: `${service.url}/v1/metrics`, headers: bearer() });
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      readers: [reader],
    });
    const gauge = provider.getMeter('e2e').createGauge('queue_wait_ms');
    try {
      await new Promise((r) => setTimeout(r, 300));
      // A steady gauge exported every 25 ms for ten seconds, with one spike: the samples after it move
      // the pipeline's watermark past it (it waits out the allowed lateness, 5 s, for stragglers).
      for (let i = 0; i < 400; i++) {
        gauge.record(i === 150 ? 97 : 40 + Math.sin(i / 5) * 3);
        await reader.forceFlush();
        await new Promise((r) => setTimeout(r, 25));
      }
      const [anomaly] = await anomalies.until((items) => items.some((a) => a.value === 97), 30_000);
      const spike = anomalies.items.find((a) => a.value === 97)!;
      expect(spike).toMatchObject({ name: 'queue_wait_ms', pipelineId: 'default_analytics' });
      expect(spike.score).toBeGreaterThanOrEqual(0.5);
      expect(anomaly).toBeDefined();
      // The default rule holds the alert pending for half a minute, then fires it.
      const seen = await alerts.until((items) => items.some((t) => t.transition === 'fired'), 60_000);
      expect(seen.map((t) => t.transition).slice(0, 2)).toEqual(['pending', 'fired']);
      // The alert of the series is pending from its first finding, and fires with the spike's value.
      expect(seen.find((t) => t.transition === 'fired')).toMatchObject({ rule: 'anomaly', value: 97 });
      // Its per-series state, as an operator sees it: the one series in memory, in one bank row.
      const state = await gql<{ pipeline: { series: Record<string, number> } }>(
        service.url,
        '{ pipeline(id: "default_analytics") { series { inMemory evicted evictions restoredOnDemand bankRows } } }',
      );
      expect(state.data!.pipeline.series).toEqual({
        inMemory: 1,
        evicted: 0,
        evictions: 0,
        restoredOnDemand: 0,
        bankRows: 1,
      });
    } finally {
      anomalies.dispose();
      alerts.dispose();
      await provider.shutdown();
      await client.dispose();
    }
  }, 120_000);
});
