/**
 * `bench/ingest.bench.ts --mode service`: OTLP/HTTP ingest through the running service. The service
 * runs in a child process as `npm start` runs it (embedded SQLite log and chDB); a separate process
 * (`bench/otlp-load.ts`) sends the load from `clients` concurrent OTLP clients, protobuf first, then
 * JSON, each answered only once its samples are durable in the log. Done twice: with the default
 * analysis on (`DEFAULT_ANALYTICS=on`, as shipped) and off. Measures samples/s acknowledged, the CPU
 * time of the service and of the generator during each run, and checks afterwards that the log holds
 * every acknowledged sample.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBatch } from '../src/domain/metrics/batch.js';
import { createSqliteEventStore } from '../src/stores/event-store/sqlite.js';
import type { LoadResult } from './otlp-load.js';
import { fmt, report } from './report.js';
import { benchKey, freePort, spawnService, untilAlive } from './service-child.js';

export interface ServiceIngestOptions {
  readonly clients: number;
  readonly points: number;
  readonly series: number;
  readonly seconds: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function run(command: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, command, { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function load(options: Record<string, unknown>): Promise<LoadResult> {
  const child = run(['--import', 'tsx', 'bench/otlp-load.ts', JSON.stringify(options)]);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the load generator failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
}

interface Variant {
  readonly protobuf: LoadResult & { serviceCpuSeconds: number; eventsPerAppend: number };
  readonly json: LoadResult & { serviceCpuSeconds: number; eventsPerAppend: number };
  readonly logged: number;
}

async function variant(analysis: 'on' | 'off', options: ServiceIngestOptions): Promise<Variant> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-service-'));
  const key = benchKey();
  const service = spawnService({
    port,
    dataDir: dir,
    key,
    env: { DEFAULT_ANALYTICS: analysis },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  service.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  await untilAlive(url, service);
  let step = 0;
  /** The OTLP agent's events made durable and the appends that carried them (group commit). */
  const commits = async () => {
    const health = (await (await fetch(`${url}/healthz`)).json()) as {
      agents: { agentId: string; batchesFlushed: number; appends: number }[];
    };
    const otlp = health.agents.find((a) => a.agentId === 'otlp')!;
    return { events: otlp.batchesFlushed, appends: otlp.appends };
  };
  const measured = async (format: 'protobuf' | 'json') => {
    const before = cpuSeconds(service.pid!);
    const committed = await commits();
    const result = await load({ url, key, format, ...options, firstStep: step });
    step = result.nextStep;
    const after = await commits();
    return {
      ...result,
      serviceCpuSeconds: cpuSeconds(service.pid!) - before,
      eventsPerAppend: (after.events - committed.events) / Math.max(1, after.appends - committed.appends),
    };
  };
  const protobuf = await measured('protobuf');
  const json = await measured('json');
  service.kill('SIGTERM');
  await new Promise((r) => service.once('exit', r));
  // Acknowledged means durable: every acknowledged sample is in the log after the stop.
  const events = createSqliteEventStore({ path: join(dir, 'events.db') });
  let logged = 0;
  for await (const event of events.readStream('samples-otlp'))
    logged += decodeBatch(event.data).values.length;
  await events.close();
  rmSync(dir, { recursive: true, force: true });
  const acknowledged = protobuf.acknowledgedSamples + json.acknowledgedSamples;
  if (logged < acknowledged)
    throw new Error(`${acknowledged} samples were acknowledged but the log holds ${logged}`);
  return { protobuf, json, logged };
}

export async function serviceIngest(options: ServiceIngestOptions): Promise<void> {
  const load1 = loadavg()[0]!;
  const off = await variant('off', options);
  const on = await variant('on', options);
  const rate = (r: LoadResult) => r.acknowledgedSamples / (r.elapsedMs / 1000);
  const row = (label: string, r: Variant['protobuf']): [string, string] => [
    label,
    `${fmt(rate(r))} samples/s; service CPU ${fmt(r.serviceCpuSeconds, 1)} s, generator CPU ${fmt(r.cpuSeconds, 1)} s over ${fmt(r.elapsedMs / 1000, 1)} s; ${fmt(r.eventsPerAppend, 1)} requests per append; ${Object.entries(
      r.statuses,
    )
      .map(([k, v]) => `${k}: ${fmt(v)}`)
      .join(', ')}`,
  ];
  const all = [off.protobuf, off.json, on.protobuf, on.json];
  report(
    'ingest-service',
    [
      [
        'load',
        `${fmt(options.clients)} clients × ${fmt(options.points)}-point requests over ${fmt(options.series)} series, ${fmt(options.seconds)} s each`,
      ],
      row('protobuf, analysis off', off.protobuf),
      row('JSON, analysis off', off.json),
      row('protobuf, analysis on', on.protobuf),
      row('JSON, analysis on', on.json),
      ['samples in the log (off / on)', `${fmt(off.logged)} / ${fmt(on.logged)}`],
      ['load average (1 min) at the start / end', `${fmt(load1, 2)} / ${fmt(loadavg()[0]!, 2)}`],
    ],
    {
      mode: 'service',
      clients: options.clients,
      pointsPerRequest: options.points,
      series: options.series,
      serviceSamplesPerSecondProtobuf: Math.round(rate(off.protobuf)),
      serviceSamplesPerSecondJson: Math.round(rate(off.json)),
      serviceSamplesPerSecondProtobufAnalysed: Math.round(rate(on.protobuf)),
      serviceSamplesPerSecondJsonAnalysed: Math.round(rate(on.json)),
      serviceCpuSeconds: Math.round(all.reduce((s, r) => s + r.serviceCpuSeconds, 0) * 10) / 10,
      generatorCpuSeconds: Math.round(all.reduce((s, r) => s + r.cpuSeconds, 0) * 10) / 10,
      requestsPerAppendProtobuf: Math.round(off.protobuf.eventsPerAppend * 10) / 10,
      requestsPerAppendJson: Math.round(off.json.eventsPerAppend * 10) / 10,
      loadAverageAtStart: Math.round(load1 * 100) / 100,
    },
  );
}
