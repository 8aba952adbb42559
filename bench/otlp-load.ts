/**
 * OTLP/HTTP load generator, run as its own process by `bench/ingest.bench.ts --mode service` so that
 * its work is measured apart from the service's. `C` concurrent clients POST ExportMetricsServiceRequests
 * (protobuf or JSON) of `P` data points over `S` series to `URL/v1/metrics` for `T` seconds, each client
 * sending its next request once the previous one is answered; a 503 is retried after a short pause.
 *
 * Request bodies are prepared ahead of time: one template per format, encoded once with the service's
 * own OTLP schema, in which only the timestamps change from request to request (patched in place at
 * offsets found once), so that the generator spends its CPU on HTTP, not on encoding.
 *
 * Arguments: a JSON object on argv[2] (`url`, `key`, `format`, `clients`, `points`, `series`,
 * `seconds`, `firstStep`). Prints one JSON line: samples acknowledged (2xx), answers by status, the
 * elapsed time of the load and this process' CPU time during it.
 */

import { Agent, request } from 'node:http';
import { createRandom } from '../src/domain/random.js';
import { ExportMetricsServiceRequest } from '../src/ingest/otlp/schema.js';

interface LoadOptions {
  readonly url: string;
  readonly key: string;
  readonly format: 'protobuf' | 'json';
  readonly clients: number;
  readonly points: number;
  readonly series: number;
  readonly seconds: number;
  /** The step (one per second of data per series) of the first request: runs after one another never overlap. */
  readonly firstStep: number;
}

export interface LoadResult {
  readonly format: string;
  readonly acknowledgedSamples: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly elapsedMs: number;
  readonly cpuSeconds: number;
  /** The step after the last one sent. */
  readonly nextStep: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const STEPS_PER_REQUEST = Math.max(1, Math.floor(options.points / options.series));
/** A placeholder timestamp (ns) found and replaced in every body: unlike any other 8 bytes or 19 digits there. */
const MARK = 7_777_777_777_777_777_777n;
/** Data start two hours back: well inside the service's accepted window (a day by default). */
const t0Ms = Date.now() - 2 * 3_600_000;

function template() {
  // A deterministic generator: every run sends the same values.
  const seeded = createRandom(7);
  const random = () => seeded.next();
  const half = Math.ceil(options.series / 2);
  const attributes = (s: number) => [
    { key: 'instance', value: { stringValue: `host-${s % 50}` } },
    { key: 'shard', value: { stringValue: String(s) } },
  ];
  const gaugePoints = [];
  const counterPoints = [];
  for (let s = 0; s < options.series; s++) {
    for (let j = 0; j < STEPS_PER_REQUEST; j++) {
      if (s < half)
        gaugePoints.push({
          attributes: attributes(s),
          timeUnixNano: String(MARK),
          asDouble: Math.round(random() * 10_000) / 100,
        });
      else
        counterPoints.push({
          attributes: attributes(s),
          startTimeUnixNano: String(BigInt(t0Ms - 60_000) * 1_000_000n),
          timeUnixNano: String(MARK),
          asInt: String(1000 * s + j * Math.floor(random() * 10)),
        });
    }
  }
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'bench' } },
            { key: 'service.instance.id', value: { stringValue: 'generator-1' } },
            { key: 'host.arch', value: { stringValue: 'x64' } },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'bench', version: '1.0.0' },
            metrics: [
              { name: 'bench_gauge', unit: '1', gauge: { dataPoints: gaugePoints } },
              {
                name: 'bench_requests_total',
                sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: counterPoints },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The body with its placeholder timestamps' offsets, in order (point p has step p % STEPS_PER_REQUEST). */
function prepare(): { body: Buffer; offsets: number[] } {
  const message = template();
  const body =
    options.format === 'protobuf'
      ? Buffer.from(
          ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(message)).finish(),
        )
      : Buffer.from(JSON.stringify(message));
  const mark = Buffer.alloc(8);
  mark.writeBigUInt64LE(MARK);
  const needle = options.format === 'protobuf' ? mark : Buffer.from(String(MARK));
  const offsets: number[] = [];
  for (let at = body.indexOf(needle); at !== -1; at = body.indexOf(needle, at + needle.length))
    offsets.push(at);
  if (offsets.length !== options.series * STEPS_PER_REQUEST)
    throw new Error(
      `found ${offsets.length} timestamps in the template, expected ${options.series * STEPS_PER_REQUEST}`,
    );
  return { body, offsets };
}

const { body: base, offsets } = prepare();
let nextStep = options.firstStep;

/** The next request's body: the template with this request's timestamps. */
function nextBody(): Buffer {
  const body = Buffer.from(base);
  const step = nextStep;
  nextStep += STEPS_PER_REQUEST;
  const stamps = Array.from({ length: STEPS_PER_REQUEST }, (_, j) => {
    const ns = BigInt(t0Ms + (step + j) * 1000) * 1_000_000n;
    if (options.format === 'json') return Buffer.from(String(ns));
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(ns);
    return b;
  });
  for (let p = 0; p < offsets.length; p++) stamps[p % STEPS_PER_REQUEST]!.copy(body, offsets[p]!);
  return body;
}

const target = new URL('/v1/metrics', options.url);
const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
const contentType = options.format === 'protobuf' ? 'application/x-protobuf' : 'application/json';

function post(body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': contentType,
          'content-length': body.length,
          authorization: `Bearer ${options.key}`,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

const statuses: Record<string, number> = {};
let acknowledged = 0;
let requests = 0;
const cpu = process.cpuUsage();
const started = performance.now();
const deadline = started + options.seconds * 1000;
await Promise.all(
  Array.from({ length: options.clients }, async () => {
    while (performance.now() < deadline) {
      const body = nextBody();
      for (;;) {
        let status: number | string;
        try {
          status = await post(body);
        } catch (error) {
          status = (error as NodeJS.ErrnoException).code ?? 'error';
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        requests++;
        if (typeof status === 'number' && status >= 200 && status < 300) {
          acknowledged += offsets.length;
          break;
        }
        if (status !== 503 && status !== 'ECONNRESET')
          throw new Error(`the service answered ${status}: the load is not what it should be`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }),
);
const elapsedMs = performance.now() - started;
const used = process.cpuUsage(cpu);
agent.destroy();
const result: LoadResult = {
  format: options.format,
  acknowledgedSamples: acknowledged,
  requests,
  statuses,
  elapsedMs: Math.round(elapsedMs),
  cpuSeconds: (used.user + used.system) / 1e6,
  nextStep,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
