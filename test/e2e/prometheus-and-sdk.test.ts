import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollectionAgent } from '../../src/collection/agent.js';
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
