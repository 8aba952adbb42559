import { randomUUID } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/domain/metrics/batch.js';
import { queryRows } from '../../src/stores/clickhouse/client.js';
import { runToExit, startTsChild } from '../support/child-process.js';
import { tempDir } from '../support/fixtures.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

interface Readiness {
  ready: boolean;
  problems: { component: string; reason: string }[];
}

async function readiness(service: Service & { url: string }): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${service.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const INGEST = `mutation ($samples: [SampleInput!]!, $id: String) { ingestMetrics(samples: $samples, id: $id) { ... on IngestResult { accepted } ... on Error { code message } } }`;
const ingest = (service: Service & { url: string }, n: number, tag: string) =>
  gql(service.url, INGEST, {
    id: `${tag}-${n}`,
    samples: Array.from({ length: 10 }, (_, i) => ({
      name: 'loud_gauge',
      kind: 'gauge',
      labels: [{ name: 'i', value: String(i) }],
      value: n * 100 + i,
      timestamp: new Date(Date.now() - 60_000 + n).toISOString(),
    })),
  });

/** Samples in the log's samples-otlp stream, and in ClickHouse. */
async function samplesIn(service: Service): Promise<{ logged: number; stored: number }> {
  let logged = 0;
  for await (const event of service.events.readStream('samples-otlp'))
    logged += decodeBatch(event.data).values.length;
  const [row] = await queryRows<{ n: string }>(service.analytics, 'SELECT count() AS n FROM all_use.samples');
  return { logged, stored: Number(row!.n) };
}

describe('nothing wedged or skipped in silence', () => {
  it('halts a projection on a poisoned fact, and readiness, /metrics and a live subscriber say which fact and why; liveness stays ok', async () => {
    const service = await startService({ READINESS_STALL_MS: '1000' });
    const socket = wsClient(service.url);
    try {
      expect((await readiness(service)).status).toBe(200);
      const feed = collect(socket, 'subscription { anomalyDetected { value } }');
      await new Promise((r) => setTimeout(r, 200)); // the feed starts at the head
      const { position } = await service.events.append('findings-poison', [
        { id: randomUUID(), type: 'anomalyDetected', data: { seriesId: 'not a number', ts: 'yesterday' } },
      ]);
      const loud = await until(
        () => readiness(service),
        (r) => r.status === 503,
      );
      const problem = loud.body.problems.find((p) => p.component === 'projection:pipeline_findings');
      expect(problem?.reason).toMatch(
        new RegExp(
          `halted: event at position ${position} of findings-poison \\(anomalyDetected\\) does not match its schema: sourcePosition`,
        ),
      );
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(
        /aul_not_ready\{component="projection:pipeline_findings",reason="halted: event at position/,
      );
      expect(metrics).toContain('aul_consumer_up{consumer="projection:pipeline_findings",state="halted"} 0');
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      // A subscriber is told too, with the fact's position: it can resume after it.
      const deadline = Date.now() + 10_000;
      while (feed.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(JSON.stringify(feed.errors)).toMatch(/POISONED_FACT/);
      expect(JSON.stringify(feed.errors)).toContain(`event at position ${position} of findings-poison`);
    } finally {
      await socket.dispose();
      await service.stop();
    }
  });

  it('halts every projection whose checkpoint is ahead of a restored log, through new samples too, until rebuilt; then ClickHouse equals the log', async () => {
    const dataDir = tempDir('rewind-');
    const env = { DATA_DIR: dataDir, READINESS_STALL_MS: '1000' };
    let service = await startService(env);
    for (let n = 0; n < 3; n++) await ingest(service, n, 'early');
    await settle(service);
    await service.stop();
    copyFileSync(join(dataDir, 'events.db'), join(dataDir, 'backup.db'));

    service = await startService(env);
    for (let n = 0; n < 20; n++) await ingest(service, n, 'late');
    await settle(service);
    await service.stop();
    // The log loses its tail (a restored backup): ClickHouse holds rows of events it no longer has.
    copyFileSync(join(dataDir, 'backup.db'), join(dataDir, 'events.db'));
    rmSync(join(dataDir, 'events.db-wal'), { force: true });
    rmSync(join(dataDir, 'events.db-shm'), { force: true });

    service = await startService(env);
    try {
      const halted = await until(
        () => readiness(service),
        (r) => r.body.problems.some((p) => p.component === 'projection:metric_series'),
        // Generous: on a loaded machine (the whole suite on two cores) start-up alone can take seconds.
        60_000,
      );
      expect(halted.status).toBe(503);
      // Ahead of the log — or, if new events already passed it by the time it looked, at a position
      // that now holds another event: either way halted, with the remedy.
      expect(halted.body.problems.find((p) => p.component === 'projection:metric_series')?.reason).toMatch(
        /halted: projection metric_series: its checkpoint \(position \d+\) (is ahead of the log, whose head is \d+: the log lost events it had|names event .* but that position now holds .*: the log was rewound and its positions used again); rebuild it from the log with 'npm run projection:rebuild -- metric_series'/,
      );
      // New samples are acknowledged (the log takes them) but never skipped in silence: still halted.
      for (let n = 0; n < 25; n++) await ingest(service, n, 'after');
      const still = await readiness(service);
      expect(still.body.problems.map((p) => p.component)).toContain('projection:metric_series');
    } finally {
      await service.stop();
    }

    const rebuild = await runToExit(
      startTsChild('scripts/projection-rebuild.ts', ['--all'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
    );
    expect([rebuild.code, rebuild.err]).toEqual([0, '']);
    expect(rebuild.out).toContain(
      'metric_series: checkpoint and tables (samples, series, samples_1m, samples_1h) cleared',
    );

    service = await startService(env);
    try {
      await settle(service);
      expect((await readiness(service)).status).toBe(200);
      const counts = await samplesIn(service);
      expect(counts.stored).toBe(counts.logged);
      expect(counts.logged).toBe((3 + 25) * 10);
    } finally {
      await service.stop();
    }
  });
});
