/**
 * Live path through the running service, over real HTTP and WebSocket: from the `ingestMetrics` call
 * of a spike (answered once durable) to its anomaly on a graphql-ws subscriber, and to the alert of a
 * rule with no hold. (Measured from the call: the anomaly often arrives before the answer has been
 * read, so "from the answer" would be 0.) The service runs in this process as `npm start` composes it, with one
 * pipeline that allows no lateness (the reorder buffer would otherwise hold every sample for its
 * allowance) and the rule `spike` (anomaly score ≥ 0.9, forMs 0: the spike, not the early findings of a short history).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import pino from 'pino';
import { quantile } from 'simple-statistics';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { createService } from '../src/service.js';

const KEY = 'aul_bootstrap_bench-latency-key-0123456789abcdef';
const SPIKES = 40;

export interface ServiceLatency {
  readonly anomalyP50Ms: number;
  readonly anomalyP99Ms: number;
  readonly alertP50Ms: number;
  readonly alertP99Ms: number;
  /** The ingest call itself, to its answer. */
  readonly answerP50Ms: number;
  readonly anomalies: number;
  readonly alerts: number;
  readonly spikes: number;
}

export async function serviceLatency(): Promise<ServiceLatency> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-live-'));
  const pipelines = join(dir, 'pipelines.json');
  const rules = join(dir, 'rules.json');
  writeFileSync(
    pipelines,
    JSON.stringify([
      {
        id: 'live',
        route: [{ name: 'live_*' }],
        quality: { allowedLatenessMs: 0 },
        output: 'none',
        analytics: {},
      },
    ]),
  );
  writeFileSync(
    rules,
    JSON.stringify([
      {
        id: 'spike',
        match: { name: 'live_*' },
        condition: { type: 'anomalyScore', min: 0.9 },
        severity: 'warning',
      },
    ]),
  );
  const config = loadConfig({
    DATA_DIR: join(dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    SELF_MONITOR_INTERVAL_MS: '0',
    DEFAULT_ANALYTICS: 'off',
    AUTH_BOOTSTRAP_ADMIN_KEY: KEY,
    PIPELINES_FILE: pipelines,
    ALERT_RULES_FILE: rules,
  });
  const service = await createService(config, pino({ level: 'warn' }));
  const { port } = await service.start();
  const url = `http://127.0.0.1:${port}`;
  const ingest = async (samples: unknown[]) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        query:
          'mutation ($s: [SampleInput!]!) { ingestMetrics(samples: $s) { ... on IngestResult { accepted } ... on Error { message } } }',
        variables: { s: samples },
      }),
    });
    await response.text();
  };
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    connectionParams: { authorization: `Bearer ${KEY}` },
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  // When each probe's spike was answered, and when its anomaly and alert arrived (either may come
  // first: the latency is taken at the end, never below 0).
  const answered = new Map<string, number>();
  const called = new Map<string, number>();
  const anomalyAt = new Map<string, number>();
  const alertAt = new Map<string, number>();
  const seen = (into: Map<string, number>, probe: string | undefined) => {
    if (probe && !into.has(probe)) into.set(probe, performance.now());
  };
  const probeOf = (labels: readonly { name: string; value: string }[] | undefined) =>
    labels?.find((l) => l.name === 'probe')?.value;
  const stops = [
    client.subscribe<{ anomalyDetected: { value: number; labels: { name: string; value: string }[] } }>(
      { query: 'subscription { anomalyDetected(minScore: 0.5) { value labels { name value } } }' },
      {
        next: (r) => {
          const found = r.data?.anomalyDetected;
          if ((found?.value ?? 0) > 1000) seen(anomalyAt, probeOf(found?.labels));
        },
        error: () => {},
        complete: () => {},
      },
    ),
    client.subscribe<{
      alertChanged: { transition: string; value: number; labels: { name: string; value: string }[] };
    }>(
      { query: 'subscription { alertChanged(rule: "spike") { transition value labels { name value } } }' },
      {
        next: (r) => {
          const change = r.data?.alertChanged;
          // The spike's own firing (a calm history's early findings may have fired one before).
          if (
            change &&
            (change.transition === 'fired' || change.transition === 'pending') &&
            change.value > 1000
          )
            seen(alertAt, probeOf(change.labels));
        },
        error: () => {},
        complete: () => {},
      },
    ),
  ];
  try {
    const start = Date.now() - 600_000;
    // A calm history for every probe series, then a spike on each in turn, each its own request.
    for (let s = 0; s < SPIKES; s++) {
      const labels = [{ name: 'probe', value: `p${s}` }];
      await ingest(
        Array.from({ length: 300 }, (_, i) => ({
          name: 'live_probe',
          labels,
          kind: 'gauge',
          value: 50 + Math.sin(i / 5),
          timestamp: new Date(start + i * 1000).toISOString(),
        })),
      );
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (let s = 0; s < SPIKES; s++) {
      const sample = {
        name: 'live_probe',
        labels: [{ name: 'probe', value: `p${s}` }],
        kind: 'gauge',
        value: 5000,
        timestamp: new Date(start + 300_000).toISOString(),
      };
      called.set(`p${s}`, performance.now());
      await ingest([sample]);
      answered.set(`p${s}`, performance.now());
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    for (const stop of stops) stop();
    await client.dispose();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const latencies = (arrived: Map<string, number>, from: Map<string, number>) =>
    [...arrived].flatMap(([probe, at]) => {
      const sent = from.get(probe);
      return sent === undefined ? [] : [Math.max(0, at - sent)];
    });
  // From the call (the answer itself takes part of it: the append is durable before it leaves).
  const anomaly = latencies(anomalyAt, called);
  const alert = latencies(alertAt, called);
  const answer = latencies(answered, called);
  const q = (xs: number[], p: number) => (xs.length ? quantile(xs, p) : Number.NaN);
  return {
    anomalyP50Ms: q(anomaly, 0.5),
    anomalyP99Ms: q(anomaly, 0.99),
    alertP50Ms: q(alert, 0.5),
    alertP99Ms: q(alert, 0.99),
    answerP50Ms: q(answer, 0.5),
    anomalies: anomaly.length,
    alerts: alert.length,
    spikes: SPIKES,
  };
}
