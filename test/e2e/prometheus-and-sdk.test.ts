import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectionAgent, createCollectionAgent } from '../../src/collection/agent.js';
import { seriesId } from '../../src/domain/metrics/identity.js';
import { prometheusScraper } from '../../src/ingest/prometheus/scrape.js';
import { createMetricsSdk } from '../../src/ingest/sdk.js';
import { rawRange } from '../../src/projections/metric-series/queries.js';
import { silentLogger, tempDir } from '../support/fixtures.js';
import { type Service, settle, startService } from '../support/service.js';

const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });
const values = async (service: Service, name: string, labels: Record<string, string>) =>
  (await rawRange(service.analytics, { seriesId: seriesId(name, labels) }, window())).map((p) => p.value);

describe('Prometheus scrape of a real prom-client registry', () => {
  let service: Service & { url: string };
  let target: Server;
  let url = '';
  const registry = new Registry();
  const jobs = new Counter({
    name: 'jobs_processed_total',
    help: 'jobs',
    labelNames: ['queue'],
    registers: [registry],
  });
  const temperature = new Gauge({ name: 'room_temperature_celsius', help: 't', registers: [registry] });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'd',
    buckets: [0.1, 1],
    registers: [registry],
  });
  const size = new Summary({ name: 'payload_bytes', help: 's', percentiles: [0.5], registers: [registry] });

  beforeAll(async () => {
    target = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const address = target.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/metrics`;
    service = await startService({ SCRAPE_TARGETS: `shop=${url}`, SCRAPE_INTERVAL_MS: '3600000' });
  });
  afterAll(async () => {
    await service.stop();
    await new Promise((r) => target.close(r));
  });

  it('stores counters, gauges, histograms and summaries from the scrape with exact values', async () => {
    jobs.inc({ queue: 'mail' }, 3);
    jobs.inc({ queue: 'sms' });
    temperature.set(21.5);
    for (const s of [0.05, 0.5, 2]) duration.observe(s);
    for (const b of [100, 200, 300]) size.observe(b);
    const agent = service.agents.get('scrape-shop')!;
    const scrape = prometheusScraper(agent, { name: 'shop', url });
    await scrape();
    jobs.inc({ queue: 'mail' }, 2);
    await scrape();
    await settle(service);
    const t = { scrape_target: 'shop' };
    expect(await values(service, 'jobs_processed_total', { ...t, queue: 'mail' })).toEqual([3, 5]);
    expect(await values(service, 'jobs_processed_total', { ...t, queue: 'sms' })).toEqual([1, 1]);
    expect(await values(service, 'room_temperature_celsius', t)).toEqual([21.5, 21.5]);
    expect(await values(service, 'job_duration_seconds_bucket', { ...t, le: '0.1' })).toEqual([1, 1]);
    expect(await values(service, 'job_duration_seconds_bucket', { ...t, le: '1' })).toEqual([2, 2]);
    expect(await values(service, 'job_duration_seconds_bucket', { ...t, le: '+Inf' })).toEqual([3, 3]);
    expect(await values(service, 'job_duration_seconds_sum', t)).toEqual([2.55, 2.55]);
    expect(await values(service, 'payload_bytes', { ...t, quantile: '0.5' })).toEqual([200, 200]);
    expect(await values(service, 'payload_bytes_count', t)).toEqual([3, 3]);
    expect(await values(service, 'up', t)).toEqual([1, 1]);
  });

  it('records up 0 when the target cannot be scraped', async () => {
    const agent = service.agents.get('scrape-shop')!;
    const broken = prometheusScraper(agent, {
      name: 'gone',
      url: 'http://127.0.0.1:9/metrics',
      timeoutMs: 500,
    });
    await expect(broken()).rejects.toThrow();
    await settle(service);
    expect(await values(service, 'up', { scrape_target: 'gone' })).toEqual([0]);
  });
});

/** A node:http server on 127.0.0.1 and its URL. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { server, base };
}

const waitUntil = async (condition: () => boolean, timeoutMs = 3000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** An agent of its own (periodic mode) on the service's log, so its health counts only these tests. */
async function ownAgent(service: Service, id: string): Promise<CollectionAgent> {
  const agent = createCollectionAgent({
    id,
    events: service.events,
    host: service.host,
    logger: silentLogger,
    spoolDir: tempDir(),
    batchMaxDelayMs: 20,
  });
  await agent.start(['periodic']);
  return agent;
}

/** Valid exposition lines, `big_metric{i="<n>"} 1`, from line `from` on, about `bytes` long. */
const lines = (from: number, bytes: number) => {
  let text = '';
  for (let i = from; text.length < bytes; i++) text += `big_metric{i="${i}"} 1\n`;
  return text;
};

describe('Prometheus scrape body limit (SCRAPE_MAX_BODY_BYTES)', () => {
  const LIMIT = 4096;
  const MB = 1024 * 1024;
  let service: Service & { url: string };
  let target: Server;
  let base = '';
  /** Per request path: bytes the server wrote, and whether the connection closed before the body ended. */
  const seen = new Map<string, { written: number; cutOff: boolean; closed: Promise<void> }>();

  /**
   * Writes chunks with backpressure until the body is done or the client went away; `paced`, 1 ms
   * apart (a 1 MB body takes 64 ms or more), so that it cannot all sit in socket buffers before the
   * client decided: a body read whole would end, a cut-off one is closed early.
   */
  const stream = async (res: ServerResponse, paced: boolean, next: (written: number) => string | null) => {
    const entry = seen.get(res.req.url!)!;
    for (;;) {
      if (res.destroyed) return;
      const chunk = next(entry.written);
      if (chunk === null) return void res.end();
      entry.written += chunk.length;
      if (!res.write(chunk))
        await new Promise((r) => {
          res.once('drain', r);
          res.once('close', r);
        });
      if (paced) await new Promise((r) => setTimeout(r, 1));
    }
  };

  beforeAll(async () => {
    const big = lines(0, MB);
    ({ server: target, base } = await listen((req, res) => {
      let closed!: () => void;
      const entry = { written: 0, cutOff: false, closed: new Promise<void>((r) => (closed = r)) };
      seen.set(req.url!, entry);
      res.on('close', () => {
        entry.cutOff = !res.writableFinished;
        closed();
      });
      const path = req.url!.split('?')[0];
      if (path === '/declared') {
        // 1 MB announced by content-length: refused before any of it is read.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(big) });
        void stream(res, true, (w) => (w < big.length ? big.slice(w, w + 16 * 1024) : null));
      } else if (path === '/chunked') {
        // 1 MB with no length given: cut off once the read passes the limit.
        res.writeHead(200, { 'content-type': 'text/plain' });
        void stream(res, true, (w) => (w < big.length ? big.slice(w, w + 16 * 1024) : null));
      } else if (path === '/endless') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let n = 0;
        // As fast as the client takes it.
        void stream(res, false, () => {
          const chunk = lines(n, 16 * 1024);
          n += 1000;
          return chunk;
        });
      } else {
        // Small enough for the default limit, too big for LIMIT: proves the setting is passed through.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(lines(0, 8 * 1024));
      }
    }));
    service = await startService({
      SCRAPE_TARGETS: `medium=${base}/medium`,
      SCRAPE_INTERVAL_MS: '100',
      SCRAPE_MAX_BODY_BYTES: String(LIMIT),
    });
  });
  afterAll(async () => {
    await service.stop();
    target.closeAllConnections();
    await new Promise((r) => target.close(r));
  });

  it('the service scrapes with the configured limit: up 0, a sampler error, no samples', async () => {
    const agent = service.agents.get('scrape-medium')!;
    await waitUntil(() => agent.health().samplerErrors >= 1);
    await settle(service);
    const up = await values(service, 'up', { scrape_target: 'medium' });
    expect(up.length).toBeGreaterThanOrEqual(1);
    expect(up.every((v) => v === 0)).toBe(true);
    expect(await values(service, 'big_metric', { scrape_target: 'medium', i: '0' })).toEqual([]);
  });

  it.each([
    ['declared', /body of \d+ bytes \(content-length\) exceeds the limit of 4096 bytes/],
    ['chunked', /body exceeds the limit of 4096 bytes/],
    ['endless', /body exceeds the limit of 4096 bytes/],
  ])('a %s body over the limit fails fast, is not read on, and stores nothing', async (name, message) => {
    const agent = await ownAgent(service, `limit-${name}`);
    const url = `${base}/${name}`;
    const scrape = prometheusScraper(agent, { name, url, maxBodyBytes: LIMIT, timeoutMs: 10_000 });
    // Through the agent's timer, as the service runs it: the failure is a counted sampler error.
    let failure: unknown;
    let tookMs = Number.POSITIVE_INFINITY;
    const stop = agent.sample(async () => {
      stop();
      const started = Date.now();
      try {
        await scrape();
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        tookMs = Date.now() - started;
      }
    }, 1);
    await waitUntil(() => agent.health().samplerErrors === 1);
    expect(tookMs).toBeLessThan(1000); // not the 10 s timeout: the limit ended it
    expect(String(failure)).toMatch(message);
    expect(String(failure)).toContain(url);
    expect(String(failure)).toContain('SCRAPE_MAX_BODY_BYTES');
    // The server saw the connection closed before the body was done.
    const entry = seen.get(`/${name}`)!;
    await entry.closed;
    expect(entry.cutOff).toBe(true);
    if (name !== 'endless') expect(entry.written).toBeLessThan(MB / 4);
    await agent.flush();
    await settle(service);
    expect(await values(service, 'up', { scrape_target: name })).toEqual([0]);
    expect(await values(service, 'big_metric', { scrape_target: name, i: '0' })).toEqual([]);
    expect(agent.health().samplesRecorded).toBe(1); // only `up`
    await agent.stop();
  });

  it('a body within the limit is still read whole', async () => {
    const agent = await ownAgent(service, 'limit-ok');
    const scrape = prometheusScraper(agent, { name: 'ok', url: `${base}/medium`, maxBodyBytes: 64 * 1024 });
    await scrape();
    await agent.flush();
    await settle(service);
    expect(await values(service, 'up', { scrape_target: 'ok' })).toEqual([1]);
    const count = lines(0, 8 * 1024).split('\n').length - 1;
    expect(await values(service, 'big_metric', { scrape_target: 'ok', i: String(count - 1) })).toEqual([1]);
    await agent.stop();
  });
});

describe('Prometheus scrapes of one target never overlap', () => {
  let service: Service & { url: string };
  let target: Server;
  let base = '';
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;

  beforeAll(async () => {
    ({ server: target, base } = await listen((_req, res) => {
      requests++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('slow_metric 7\n');
      }, 300);
    }));
    service = await startService();
  });
  afterAll(async () => {
    await service.stop();
    await new Promise((r) => target.close(r));
  });

  it('skips (does not queue) ticks while a scrape runs, and records the skips', async () => {
    const agent = await ownAgent(service, 'slow');
    let scrapes = 0;
    const scrape = prometheusScraper(agent, { name: 'slow', url: `${base}/metrics` }, () => {
      scrapes++;
      if (scrapes === 2) stop(); // from inside the second scrape: no tick after it
    });
    const stop = agent.sample(scrape, 50);
    await waitUntil(() => scrapes === 2);
    expect(maxInFlight).toBe(1);
    expect(requests).toBe(2);
    expect(agent.health().samplerErrors).toBe(0); // a skip is not an error
    await agent.flush();
    await settle(service);
    const t = { scrape_target: 'slow' };
    expect(await values(service, 'up', t)).toEqual([1, 1]);
    expect(await values(service, 'slow_metric', t)).toEqual([7, 7]);
    // A counter: its running total at each skipped tick (about 5 per 300 ms scrape at 50 ms ticks).
    const skipped = await values(service, 'scrape_skipped_total', t);
    expect(skipped.length).toBeGreaterThanOrEqual(6);
    expect(skipped).toEqual(skipped.map((_, i) => i + 1));
    await agent.stop();
  });
});

describe('in-process SDK', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    service = await startService();
  });
  afterAll(async () => {
    await service.stop();
  });

  it('records counters, gauges, histograms and summaries from an embedding service', async () => {
    const agent = createCollectionAgent({
      id: 'embedded',
      events: service.events,
      host: service.host,
      logger: silentLogger,
      spoolDir: tempDir(),
      batchMaxDelayMs: 20,
    });
    await agent.start(['event', 'periodic']);
    const sdk = createMetricsSdk(agent);
    sdk.recordCounter('logins_total', { method: 'sso' }, 2);
    sdk.recordCounter('logins_total', { method: 'sso' });
    sdk.recordGauge('sessions_open', {}, 12);
    for (const v of [0.02, 0.2, 3]) sdk.recordHistogram('call_seconds', { api: 'x' }, v, [0.1, 1]);
    for (let i = 1; i <= 1000; i++) sdk.recordSummary('item_price', {}, i);
    await sdk.flush();
    // Durable once flush resolves: in the log, before any projection ran.
    let logged = 0;
    for await (const event of service.events.readStream('samples-embedded'))
      logged += (event.data as { count: number }).count;
    expect(logged).toBe(2 + 1 + 5 + 5);
    await settle(service);
    expect(await values(service, 'logins_total', { method: 'sso' })).toEqual([2, 3]);
    expect(await values(service, 'sessions_open', {})).toEqual([12]);
    expect(await values(service, 'call_seconds_bucket', { api: 'x', le: '0.1' })).toEqual([1]);
    expect(await values(service, 'call_seconds_bucket', { api: 'x', le: '+Inf' })).toEqual([3]);
    expect(await values(service, 'call_seconds_count', { api: 'x' })).toEqual([3]);
    const [median] = await values(service, 'item_price', { quantile: '0.5' });
    expect(Math.abs(median! - 500) / 500).toBeLessThan(0.02);
    expect(() => sdk.recordCounter('logins_total', { method: 'sso' }, -1)).toThrow(/only go up/);
    await agent.stop();
  });
});
