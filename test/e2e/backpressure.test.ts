import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/domain/metrics/batch.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { bearer } from '../support/auth.js';
import { killed, runToExit, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';
import { gql } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const rssMb = (child: ChildProcess) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function otlpBody(points: number, offset: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const dataPoints = Array.from({ length: points }, (_, i) => ({
    asDouble: i + 0.25,
    timeUnixNano: String(now - BigInt(offset * 1000 + i) * 1_000_000n),
    attributes: [{ key: 'shard', value: { stringValue: String(i % 50) } }],
  }));
  return JSON.stringify({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'flood_gauge', gauge: { dataPoints } }] }] }],
  });
}

describe('back-pressure and limits', () => {
  it('under a flood answers 503 with Retry-After beyond its limits, keeps every sample it acknowledged, stays alive and bounded', async () => {
    const port = await freePort();
    const dataDir = tempDir('flood-');
    const child = startTsChild('src/main.ts', [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      SELF_MONITOR_INTERVAL_MS: '0',
      OTLP_MAX_CONCURRENT_REQUESTS: '2',
    });
    const exit = runToExit(child);
    await waitForLine(child, /is listening/);
    const url = `http://127.0.0.1:${port}`;
    const bodies = Array.from({ length: 4 }, (_, i) => otlpBody(5000, i * 10));
    const statuses: number[] = [];
    const retryAfter = new Set<string | null>();
    let acknowledged = 0;
    let peak = 0;
    let healthFailures = 0;
    const deadline = Date.now() + 3000;
    const probe = (async () => {
      while (Date.now() < deadline) {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        if (res?.status !== 200) healthFailures++;
        await res?.arrayBuffer();
        peak = Math.max(peak, rssMb(child));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let n = c; Date.now() < deadline; n += 16) {
          const res = await fetch(`${url}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `flood-${n}`, ...bearer() },
            body: bodies[n % bodies.length]!,
          });
          await res.arrayBuffer();
          statuses.push(res.status);
          if (res.status === 503) retryAfter.add(res.headers.get('retry-after'));
          else if (res.status === 200) acknowledged++;
        }
      }),
    );
    await probe;
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect([...retryAfter]).toEqual(['1']);
    expect(acknowledged).toBeGreaterThan(0);
    expect(healthFailures).toBe(0);
    // Generous: without bounds the same flood held well over a gigabyte and kept growing.
    expect(peak).toBeLessThan(1200);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    // Everything acknowledged is in the log, and nothing refused is.
    const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
    let logged = 0;
    for await (const event of store.readStream('samples-otlp'))
      logged += decodeBatch(event.data).values.length;
    await store.close();
    expect(logged).toBe(acknowledged * 5000);
  });

  it('keeps its series limits across a restart: a metric over its limit stays refused, and so does the service over its own', async () => {
    const dataDir = tempDir('limits-');
    const env = { DATA_DIR: dataDir, INGEST_MAX_SERIES_PER_METRIC: '5', INGEST_MAX_SERIES: '8' };
    const INGEST = `mutation ($samples: [SampleInput!]!) { ingestMetrics(samples: $samples) { ... on IngestResult { accepted rejected { index field reason } } ... on Error { code message } } }`;
    const send = (service: Service & { url: string }, name: string, from: number, count: number) =>
      gql<{ ingestMetrics: { accepted: number; rejected: { reason: string }[] } }>(service.url, INGEST, {
        samples: Array.from({ length: count }, (_, i) => ({
          name,
          kind: 'gauge',
          labels: [{ name: 'host', value: `h${from + i}` }],
          value: 1,
        })),
      });
    let service = await startService(env);
    expect((await send(service, 'cpu', 0, 6)).data?.ingestMetrics).toMatchObject({
      accepted: 5,
      rejected: [{ reason: "metric 'cpu' already has 5 series (the per-metric limit)" }],
    });
    await settle(service);
    await service.stop();

    service = await startService(env);
    try {
      const again = await send(service, 'cpu', 10, 1);
      expect(again.data?.ingestMetrics.rejected).toMatchObject([
        { reason: "metric 'cpu' already has 5 series (the per-metric limit)" },
      ]);
      expect((await send(service, 'cpu', 0, 5)).data?.ingestMetrics.accepted).toBe(5); // known series still go in
      const other = await send(service, 'mem', 0, 4);
      expect(other.data?.ingestMetrics).toMatchObject({
        accepted: 3,
        rejected: [{ reason: 'the service already has 8 series (the global limit)' }],
      });
    } finally {
      await service.stop();
    }
  });

  it('stops promptly on SIGTERM in the middle of a flood', async () => {
    const port = await freePort();
    const child = startTsChild('src/main.ts', [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: tempDir('flood-stop-'),
      LOG_LEVEL: 'warn',
      SELF_MONITOR_INTERVAL_MS: '0',
    });
    const exit = runToExit(child);
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/healthz`)
          .then((r) => r.ok)
          .catch(() => false)
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const body = otlpBody(5000, 0);
    let stop = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop)
        await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer() },
          body,
        })
          .then((r) => r.arrayBuffer())
          .catch(() => {
            stop = true;
          });
    });
    await new Promise((r) => setTimeout(r, 1000));
    const began = Date.now();
    child.kill('SIGTERM');
    const run = await exit;
    stop = true;
    await Promise.all(clients);
    expect(run.code).toBe(0);
    expect(Date.now() - began).toBeLessThan(15_000);
    await killed(child);
  });
});
