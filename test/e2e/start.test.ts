import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/stores/clickhouse/migrations.js';
import { runToExit, startTsChild, waitForLine } from '../support/child-process.js';
import { freePort, tempDir } from '../support/fixtures.js';

async function pollHealth(
  port: number,
  deadlineMs: number,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('npm start on a fresh data directory', () => {
  it('answers /healthz within 10 s with the stores open and migrations applied, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const began = Date.now();
    const child = startTsChild('src/main.ts', [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    });
    const exit = runToExit(child);
    const health = await pollHealth(port, 10_000);
    const elapsed = Date.now() - began;
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      eventStore: { kind: 'sqlite' },
      analytics: { kind: 'chdb', migrationsApplied: MIGRATIONS.map((m) => m.version) },
      consumers: [
        { name: 'projection:audit_index' },
        { name: 'projection:metric_series' },
        { name: 'projection:pipeline_findings' },
        { name: 'projection:alerts' },
        { name: 'projection:forecasts' },
        { name: 'projection:predictions' },
        { name: 'projection:models' },
        // Every series analysed out of the box (DEFAULT_ANALYTICS=on).
        { name: 'pipeline:default_analytics' },
        { name: 'alertmanager:main' },
      ],
      agents: [
        { agentId: 'otlp', state: 'running' },
        { agentId: 'self', state: 'running' },
      ],
    });
    expect(elapsed).toBeLessThan(10_000);
    // Ready once the stores answer and every consumer reads the log (a moment after liveness).
    let ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    }
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true, status: 'ready', problems: [] }]);
    // The facts the start itself records (the default analytics' seeds) are indexed a moment later.
    let metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (
      let i = 0;
      i < 100 && !metrics.includes('aul_projection_lag_milliseconds{projection="audit_index"} 0');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    expect(metrics).toContain('aul_projection_lag_milliseconds{projection="audit_index"} 0');
    expect(metrics).toMatch(
      /aul_consumer_up\{consumer="projection:metric_series",state="(live|catchingUp)"\} 1/,
    );
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(missing.status).toBe(404);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);

    // A restart on the same data finds the migrations already applied.
    const again = startTsChild('src/main.ts', [], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    });
    const againExit = runToExit(again);
    const second = await pollHealth(port, 10_000);
    expect(second.body).toMatchObject({ status: 'ok', analytics: { migrationsApplied: [] } });
    again.kill('SIGTERM');
    expect((await againExit).code).toBe(0);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the service itself when ${signal} is sent to the npm start process (as Docker or a terminal does)`, async () => {
      const port = await freePort();
      const npm = spawn('npm', ['start'], {
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: tempDir(),
          LOG_LEVEL: 'info',
          SELF_MONITOR_INTERVAL_MS: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exit = runToExit(npm);
      const listening = JSON.parse(await waitForLine(npm, /is listening/)) as { pid: number };
      expect(listening.pid).not.toBe(npm.pid);
      npm.kill(signal);
      const run = await exit;
      expect(run.out).toContain(`"signal":"${signal}"`);
      // The node process npm started is gone, not left running on its own.
      expect(() => process.kill(listening.pid, 0)).toThrow();
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    });
  }

  it('refuses bad settings with a message naming each one', async () => {
    const child = startTsChild('src/main.ts', [], {
      PORT: 'eighty',
      CLICKHOUSE_URL: 'ftp://x',
      DATA_DIR: tempDir(),
    });
    const run = await runToExit(child);
    expect(run.code).toBe(1);
    expect(run.err).toContain("PORT: must be a number (got 'eighty')");
    expect(run.err).toContain('CLICKHOUSE_URL: must start with http:// or https://');
  });
});
