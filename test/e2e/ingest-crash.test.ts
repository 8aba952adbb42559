import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/domain/metrics/batch.js';
import { openAnalyticsStore, queryRows } from '../../src/stores/clickhouse/client.js';
import { createSqliteEventStore } from '../../src/stores/event-store/sqlite.js';
import { bearer } from '../support/auth.js';
import { killed, runToExit, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';
import { seeded } from '../support/seeded.js';

const SERIES = 40;
const STEPS = 500;
const PER_REQUEST = 50;
const T0 = Date.now() - 3_600_000;

interface Request {
  readonly key: string;
  readonly body: string;
  acked: boolean;
}

/** Request n carries 50 samples: 10 timestamps × 5 series, values that name their series and time. */
function requests(): Request[] {
  const out: Request[] = [];
  const all: [number, number][] = [];
  for (let step = 0; step < STEPS; step++) for (let s = 0; s < SERIES; s++) all.push([s, step]);
  for (let i = 0; i < all.length; i += PER_REQUEST) {
    const points = all.slice(i, i + PER_REQUEST).map(([s, step]) => ({
      asDouble: s * 1000 + step + 0.5,
      timeUnixNano: String(BigInt(T0 + step * 1000) * 1_000_000n),
      attributes: [{ key: 'series', value: { stringValue: String(s) } }],
    }));
    out.push({
      key: `crash-test-${out.length}`,
      body: JSON.stringify({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ name: 'crash_gauge', gauge: { dataPoints: points } }] }] },
        ],
      }),
      acked: false,
    });
  }
  return out;
}

function start(dataDir: string, port: number): ChildProcess {
  return startTsChild('src/main.ts', [], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    SELF_MONITOR_INTERVAL_MS: '0',
    SCAVENGE_INTERVAL_MS: '3600000',
  });
}

/** Sends every unacknowledged request (with its key) from `workers` clients, again after a 503, until all are
 * acknowledged or a kill stops the service. */
async function load(
  port: number,
  pending: Request[],
  workers: number,
  progress: { acked: number; inFlight: number },
): Promise<void> {
  const queue = pending.filter((r) => !r.acked);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        progress.inFlight++;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': next.key, ...bearer() },
            body: next.body,
          });
          await res.arrayBuffer();
          if (res.status === 200) {
            next.acked = true;
            progress.acked++;
          } else if (res.status === 503) {
            // Shed or not yet durable: a client waits and sends it again (with the same key) later.
            queue.push(next);
            await new Promise((r) => setTimeout(r, 20));
          } else throw new Error(`unexpected ${res.status}`);
        } catch (error) {
          if ((error as Error).message.startsWith('unexpected')) throw error;
          return; // the service is gone: the rest waits for the next start
        } finally {
          progress.inFlight--;
        }
      }
    }),
  );
}

describe('acknowledged means durable: OTLP load under kill -9', () => {
  it('loses no acknowledged sample and doubles none across 6 kills at seeded random moments; ClickHouse equals the log', async () => {
    const dataDir = tempDir('crash-');
    const random = seeded(Number(process.env.CRASH_SEED ?? 20261206));
    const all = requests();
    const kills = 6;
    const inFlightAtKill: number[] = [];
    for (let round = 0; round <= kills; round++) {
      const port = await freePort();
      const child = start(dataDir, port);
      await waitForLine(child, /is listening/);
      const progress = { acked: 0, inFlight: 0 };
      const remaining = all.filter((r) => !r.acked).length;
      const sending = load(port, all, 8, progress);
      if (round < kills) {
        // Killed in the middle of the load: after a seeded share of what is left is acknowledged, plus a
        // seeded few milliseconds, so that requests are in flight (some committed, not yet answered).
        const after = Math.floor(remaining * (0.05 + random() * 0.15));
        while (progress.acked < after) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setTimeout(r, random() * 20));
        inFlightAtKill.push(progress.inFlight);
        await killed(child);
        await sending;
        continue;
      }
      await sending;
      expect(all.every((r) => r.acked)).toBe(true);
      expect(inFlightAtKill.every((n) => n > 0)).toBe(true);
      // Wait until the series projection has written the last samples batch, then stop cleanly.
      const db = new Database(join(dataDir, 'events.db'), { readonly: true });
      const last = (
        db.prepare("SELECT coalesce(max(position), 0) AS p FROM events WHERE category = 'samples'").get() as {
          p: number;
        }
      ).p;
      db.close();
      for (;;) {
        const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
          consumers: { name: string; position: string | null }[];
        };
        const series = health.consumers.find((c) => c.name === 'projection:metric_series');
        if (series?.position && BigInt(series.position) >= BigInt(last)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const exit = runToExit(child);
      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);
    }

    // The log: every sample sent, exactly once.
    const expected = new Set<string>();
    for (let step = 0; step < STEPS; step++)
      for (let s = 0; s < SERIES; s++) expected.add(`${s}|${T0 + step * 1000}|${s * 1000 + step + 0.5}`);
    const store = createSqliteEventStore({ path: join(dataDir, 'events.db') });
    const logged: string[] = [];
    for await (const event of store.readStream('samples-otlp')) {
      const batch = decodeBatch(event.data);
      for (let i = 0; i < batch.values.length; i++)
        logged.push(
          `${batch.series[batch.seriesIndex[i]!]!.labels.series}|${batch.timestamps[i]}|${batch.values[i]}`,
        );
    }
    await store.close();
    expect(logged.length).toBe(expected.size);
    expect(new Set(logged)).toEqual(expected);

    // ClickHouse: the same samples, none doubled.
    const analytics = await openAnalyticsStore({ database: 'all_use', dataDir: join(dataDir, 'clickhouse') });
    const rows = await queryRows<{ series: string; ts: string; value: number }>(
      analytics,
      `SELECT s.labels['series'] AS series, toUnixTimestamp64Milli(x.ts) AS ts, x.value AS value
         FROM all_use.samples AS x INNER JOIN (SELECT * FROM all_use.series FINAL) AS s ON s.series_id = x.series_id
        WHERE s.name = 'crash_gauge'`,
    );
    await analytics.close();
    const stored = rows.map((r) => `${r.series}|${r.ts}|${r.value}`);
    expect(stored.length).toBe(expected.size);
    expect(new Set(stored)).toEqual(expected);
  });
});
