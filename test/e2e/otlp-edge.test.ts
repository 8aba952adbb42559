import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportMetricsServiceRequest, Status } from '../../src/ingest/otlp/schema.js';
import { bearer } from '../support/auth.js';
import { type Service, settle, startService } from '../support/service.js';

const MAX_DECODED = 256 * 1024;

/** POSTs `chunks` one by one (chunked transfer encoding, no content-length), as a streaming client does. */
function stream(url: string, headers: Record<string, string>, chunks: Buffer[]) {
  return new Promise<{ status: number; body: Buffer; type: string }>((resolve, reject) => {
    const req = request(
      `${url}/v1/metrics`,
      { method: 'POST', headers: { ...bearer(), ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts),
            type: String(res.headers['content-type']),
          }),
        );
      },
    );
    req.once('error', (error: NodeJS.ErrnoException) => {
      // The service may close the connection once it has answered; the answer was read already.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    let i = 0;
    const next = () => {
      if (i === chunks.length) return void req.end();
      req.write(chunks[i++], () => setImmediate(next));
    };
    next();
  });
}

const gauge = (points: number) =>
  ExportMetricsServiceRequest.encode(
    ExportMetricsServiceRequest.fromObject({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'edge_gauge',
                  gauge: {
                    dataPoints: Array.from({ length: points }, (_, i) => ({
                      asDouble: i,
                      timeUnixNano: String(BigInt(Date.now() - 60_000 + i) * 1_000_000n),
                      attributes: [{ key: 'shard', value: { stringValue: String(i % 10) } }],
                    })),
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  ).finish();

describe('the OTLP/HTTP edge', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    service = await startService({
      OTLP_MAX_DECODED_BYTES: String(MAX_DECODED),
      INGEST_MAX_EVENT_LOOP_LAG_MS: '60000',
    });
  });
  afterAll(async () => {
    await service.stop();
  });

  it('takes a gzip body streamed in chunks, decompressing it as it arrives', async () => {
    const zipped = gzipSync(gauge(500));
    const chunks = Array.from({ length: Math.ceil(zipped.length / 512) }, (_, i) =>
      zipped.subarray(i * 512, (i + 1) * 512),
    );
    const res = await stream(
      service.url,
      { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      chunks,
    );
    expect(res.status).toBe(200);
    await settle(service);
    let samples = 0;
    for await (const event of service.events.readStream('samples-otlp'))
      samples += (event.data as { count: number }).count;
    expect(samples).toBe(500);
  });

  it('answers 413 to a streamed gzip body whose decompressed bytes pass the limit', async () => {
    // 4 MB of zeros, gzipped to a few kB: far under the limit as sent, sixteen times over it decompressed.
    const zipped = gzipSync(Buffer.alloc(16 * MAX_DECODED));
    const chunks = Array.from({ length: Math.ceil(zipped.length / 256) }, (_, i) =>
      zipped.subarray(i * 256, (i + 1) * 256),
    );
    const res = await stream(
      service.url,
      { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      chunks,
    );
    expect(res.status).toBe(413);
    expect(Status.toObject(Status.decode(res.body))).toMatchObject({
      message: `decompressed body is over the limit of ${MAX_DECODED} bytes`,
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });

  it('answers 400, naming the problem, to truncated or malformed protobuf, and keeps serving', async () => {
    const whole = Buffer.from(gauge(50));
    for (const body of [
      whole.subarray(0, whole.length - 3),
      Buffer.from([0x0a, 0xff, 0x01]),
      Buffer.from([0x0f]),
    ]) {
      const res = await fetch(`${service.url}/v1/metrics`, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(res.status).toBe(400);
      const status = Status.toObject(Status.decode(new Uint8Array(await res.arrayBuffer()))) as {
        code: number;
        message: string;
      };
      expect(status.code).toBe(3);
      expect(status.message).toMatch(/^body is not a valid OTLP ExportMetricsServiceRequest \(protobuf\): /);
    }
    const ok = await fetch(`${service.url}/v1/metrics`, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/x-protobuf' },
      body: whole,
    });
    expect(ok.status).toBe(200);
  });
});
