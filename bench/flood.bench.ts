/**
 * Flood benchmark: the service in a child process (as `npm start` runs it), OTLP/HTTP JSON requests
 * from `--clients C` clients (default 32) without pause, each `--points N` data points (default
 * 20,000: about 3 MB), for `--seconds S` (default 15). Meanwhile `/healthz` is asked every 50 ms, by
 * curl (its own process, so the flooding clients' work never delays the probe). Prints
 * the answers by status, samples accepted per second, `/healthz` latency (p50, p99, max), and the
 * service's peak resident memory. JSON keys: `acceptedSamplesPerSecond`, `status200`, `status503`,
 * `healthzP50Ms`, `healthzP99Ms`, `healthzMaxMs`, `peakRssMb`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, report } from './report.js';
import { benchKey, freePort, spawnService, untilAlive } from './service-child.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const CLIENTS = arg('clients', 32);
const POINTS = arg('points', 20_000);
const SECONDS = arg('seconds', 15);

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'bench-flood-'));
/** The admin key this run's service accepts; the flood measures shedding, so the rate limit is out of the way. */
const KEY = benchKey();
const child: ChildProcess = spawnService({ port, dataDir: dir, key: KEY });
const url = `http://127.0.0.1:${port}`;
await untilAlive(url, child);

const rssMb = () => {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

let series = 0;
const body = () => {
  const now = BigInt(Date.now()) * 1_000_000n;
  const dataPoints = Array.from({ length: POINTS }, (_, i) => ({
    asDouble: Math.round(Math.random() * 10_000) / 100,
    timeUnixNano: String(now),
    attributes: [{ key: 'shard', value: { stringValue: String((series + i) % 2000) } }],
  }));
  series += POINTS;
  return JSON.stringify({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'flood_gauge', gauge: { dataPoints } }] }] }],
  });
};
const bodies = Array.from({ length: 8 }, body);

// The load generator yields the CPU to the service and the probe (both at normal priority).
setPriority(process.pid, 19);
const statuses = new Map<number | string, number>();
let accepted = 0;
let peak = 0;
let peakLag = 0;
let peakHeap = 0;
const latencies: number[] = [];
const deadline = Date.now() + SECONDS * 1000;
// The probe runs in its own process (curl), so that the flooding clients' own work never delays it.
const probes = (async () => {
  while (Date.now() < deadline) {
    const out = await new Promise<string>((resolve) => {
      const curl = spawn('curl', ['-s', '-w', '\n%{time_total}', `${url}/healthz`]);
      // The probe runs at normal priority, ahead of the flooding clients (this process is niced below),
      // so that on a small machine it measures the service, not the competition with the load generator.
      if (curl.pid) setPriority(curl.pid, 0);
      let text = '';
      curl.stdout.on('data', (c: Buffer) => {
        text += c.toString();
      });
      curl.once('exit', () => resolve(text));
    });
    const lines = out.trim().split('\n');
    latencies.push(Number(lines.at(-1)) * 1000);
    try {
      const live = JSON.parse(lines.slice(0, -1).join('\n')) as {
        process?: { eventLoopLagMs: number; heapUsedBytes: number };
      };
      peakLag = Math.max(peakLag, live.process?.eventLoopLagMs ?? 0);
      peakHeap = Math.max(peakHeap, (live.process?.heapUsedBytes ?? 0) / 1e6);
    } catch {
      // no answer in time: counted by its latency
    }
    peak = Math.max(peak, rssMb());
    await new Promise((r) => setTimeout(r, 50));
  }
})();
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, c) => {
    for (let n = c; Date.now() < deadline; n++) {
      try {
        const res = await fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body: bodies[n % bodies.length]!,
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) accepted += POINTS;
        else if (res.status === 503)
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 100));
      } catch (error) {
        const key = (error as Error).message;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
  }),
);
await probes;
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
report(
  'flood',
  [
    ['clients × points per request', `${CLIENTS} × ${fmt(POINTS)} (${fmt(bodies[0]!.length / 1e6, 1)} MB)`],
    ['answers by status', [...statuses].map(([k, v]) => `${k}: ${fmt(v)}`).join(', ')],
    ['accepted samples/s', fmt(accepted / SECONDS)],
    [
      '/healthz p50 / p99 / max, ms',
      `${fmt(pct(0.5), 1)} / ${fmt(pct(0.99), 1)} / ${fmt(latencies.at(-1) ?? 0, 1)}`,
    ],
    ['peak RSS, MB (V8 heap used)', `${fmt(peak)} (${fmt(peakHeap)})`],
    ['peak event-loop lag seen by the service, ms', fmt(peakLag, 1)],
  ],
  {
    acceptedSamplesPerSecond: Math.round(accepted / SECONDS),
    status200: statuses.get(200) ?? 0,
    status503: statuses.get(503) ?? 0,
    healthzP50Ms: Math.round(pct(0.5) * 10) / 10,
    healthzP99Ms: Math.round(pct(0.99) * 10) / 10,
    healthzMaxMs: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
    peakRssMb: Math.round(peak),
    peakHeapUsedMb: Math.round(peakHeap),
    peakEventLoopLagMs: Math.round(peakLag),
  },
);
