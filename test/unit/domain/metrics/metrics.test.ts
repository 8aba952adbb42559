import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../../../src/domain/metrics/batch.js';
import { SampleBuffer } from '../../../../src/domain/metrics/buffer.js';
import { BucketHistogram, cumulate, histogramQuantile } from '../../../../src/domain/metrics/histogram.js';
import { defineSeries, seriesId, seriesKey } from '../../../../src/domain/metrics/identity.js';
import { StreamingSummary } from '../../../../src/domain/metrics/summary.js';
import {
  checkLabels,
  checkMetricName,
  checkTimestamp,
  checkValue,
  DEFAULT_SAMPLE_LIMITS,
} from '../../../../src/domain/metrics/validation.js';

describe('series identity', () => {
  it('is the name plus the sorted label set, hashed to a stable 64-bit id', () => {
    expect(seriesKey('http_requests_total', { method: 'GET', code: '200' })).toBe(
      'http_requests_total{code="200",method="GET"}',
    );
    const a = seriesId('http_requests_total', { method: 'GET', code: '200' });
    const b = seriesId('http_requests_total', { code: '200', method: 'GET' });
    expect(a).toBe(b);
    expect(a).toMatch(/^\d+$/);
    expect(BigInt(a) < 2n ** 64n).toBe(true);
    expect(seriesId('http_requests_total', { method: 'POST', code: '200' })).not.toBe(a);
    // Fixed forever: stored rows depend on it.
    expect(seriesId('up', {})).toBe(seriesId('up', {}));
    expect(defineSeries({ name: 'x', labels: { b: '1', a: '2' }, kind: 'gauge' }).labels).toEqual({
      a: '2',
      b: '1',
    });
  });
});

describe('edge validation', () => {
  it('names the field and the reason', () => {
    expect(checkMetricName('http.server.duration')).toEqual([]);
    expect(checkMetricName('9lives')[0]!.message).toMatch(/must match/);
    expect(checkMetricName('')[0]!.message).toMatch(/1-255/);
    expect(checkLabels({ host: 'a', 'bad-key': 'x', __name__: 'y', n: 5 }).map((i) => i.path)).toEqual([
      'labels.bad-key',
      'labels.__name__',
      'labels.n',
    ]);
    expect(
      checkLabels(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])))[0]!.message,
    ).toMatch(/at most 64/);
    expect(checkValue(Number.NaN)).toEqual([{ path: 'value', message: 'NaN is not accepted' }]);
    expect(checkValue(Number.NEGATIVE_INFINITY)[0]!.message).toBe('-Infinity is not accepted');
    expect(checkValue(1.5)).toEqual([]);
    const now = Date.UTC(2026, 10, 27);
    expect(checkTimestamp(now - 1000, now, DEFAULT_SAMPLE_LIMITS)).toEqual([]);
    expect(checkTimestamp(now - 2 * 86_400_000, now, DEFAULT_SAMPLE_LIMITS)[0]!.message).toMatch(
      /in the past/,
    );
    expect(checkTimestamp(now + 3_600_000, now, DEFAULT_SAMPLE_LIMITS)[0]!.message).toMatch(/in the future/);
  });
});

describe('histograms', () => {
  it('estimates quantiles from cumulative buckets by linear interpolation', () => {
    const bounds = [0.1, 0.5, 1, Number.POSITIVE_INFINITY];
    const cumulative = cumulate([10, 30, 50, 10]); // 10, 40, 90, 100
    expect(histogramQuantile(0.5, bounds, cumulative)).toBeCloseTo(0.5 + 0.5 * (10 / 50), 12);
    expect(histogramQuantile(0.05, bounds, cumulative)).toBeCloseTo(0.05, 12);
    expect(histogramQuantile(0.95, bounds, cumulative)).toBe(1); // +Inf bucket: highest finite bound
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNaN();
  });

  it('counts observations into explicit buckets', () => {
    const h = new BucketHistogram([1, 5, 10]);
    for (const v of [0.5, 1, 3, 7, 12, 100]) h.observe(v);
    expect(Array.from(h.counts)).toEqual([2, 1, 1, 2]);
    expect(h.cumulativeCounts()).toEqual([2, 3, 4, 6]);
    expect(h.sum).toBe(123.5);
    expect(() => new BucketHistogram([2, 1])).toThrow(/ascending/);
  });
});

describe('summaries', () => {
  it('keeps streaming quantiles within the sketch relative accuracy', () => {
    const s = new StreamingSummary(0.01);
    for (let i = 1; i <= 10_000; i++) s.observe(i);
    expect(s.count).toBe(10_000);
    expect(s.sum).toBe(50_005_000);
    expect(Math.abs(s.quantile(0.5) - 5000) / 5000).toBeLessThan(0.02);
    expect(Math.abs(s.quantile(0.99) - 9900) / 9900).toBeLessThan(0.02);
    expect(new StreamingSummary().quantile(0.5)).toBeNaN();
  });
});

describe('sample buffer and batch codec', () => {
  const cpu = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });
  const reqs = defineSeries({ name: 'reqs_total', labels: {}, kind: 'counter' });

  it('refuses samples past capacity and takes the oldest first', () => {
    const buffer = new SampleBuffer(3, 1);
    const h1 = buffer.handle(cpu);
    const h2 = buffer.handle(reqs);
    expect(buffer.handle(cpu)).toBe(h1);
    expect(buffer.record(h1, 1, 0.5)).toBe(true);
    expect(buffer.record(h2, 2, 10)).toBe(true);
    expect(buffer.record(h1, 3, 0.75)).toBe(true);
    expect(buffer.record(h2, 4, 11)).toBe(false);
    const first = buffer.take(2);
    expect(first.series.map((s) => s.name)).toEqual(['cpu', 'reqs_total']);
    expect(Array.from(first.values)).toEqual([0.5, 10]);
    const rest = buffer.take();
    expect(rest.series.map((s) => s.name)).toEqual(['cpu']);
    expect(Array.from(rest.seriesIndex)).toEqual([0]);
    expect(Array.from(rest.timestamps)).toEqual([3]);
    expect(buffer.length).toBe(0);
  });

  it('round-trips a batch exactly through its JSON payload', () => {
    const batch = {
      agentId: 'a1',
      seq: 7,
      series: [cpu, reqs],
      seriesIndex: Uint32Array.from([0, 1, 0]),
      timestamps: Float64Array.from([1_795_000_000_123, 1_795_000_000_124, 1_795_000_001_000]),
      values: Float64Array.from([0.1 + 0.2, 2 ** 53 - 1, -1e-300]),
    };
    const decoded = decodeBatch(JSON.parse(JSON.stringify(encodeBatch(batch))));
    expect(decoded).toEqual(batch);
  });

  it('falls back to wide columns when a batch spans more than 24 days, has fractional times or 65,536+ series', () => {
    const wide = {
      agentId: 'a',
      seq: 1,
      series: [cpu],
      seriesIndex: Uint32Array.from([0, 0, 0]),
      timestamps: Float64Array.from([0, 30 * 86_400_000, 1.5]),
      values: Float64Array.from([1, 2, 3]),
    };
    const payload = encodeBatch(wide);
    expect(payload.tsWidth).toBe(8);
    expect(decodeBatch(JSON.parse(JSON.stringify(payload)))).toEqual(wide);
    const many = Array.from({ length: 70_000 }, (_, i) => ({ ...cpu, id: String(i) }));
    const big = {
      ...wide,
      series: many,
      seriesIndex: Uint32Array.from([69_999, 0, 65_536]),
      timestamps: Float64Array.from([1, 2, 3]),
    };
    const bigPayload = encodeBatch(big);
    expect([bigPayload.indexWidth, bigPayload.tsWidth]).toEqual([4, 4]);
    expect(decodeBatch(bigPayload)).toEqual(big);
  });

  it('rejects a payload whose columns do not match its count or series', () => {
    const payload = encodeBatch({
      agentId: 'a',
      seq: 0,
      series: [cpu],
      seriesIndex: Uint32Array.from([0]),
      timestamps: Float64Array.from([1]),
      values: Float64Array.from([1]),
    });
    expect(() => decodeBatch({ ...payload, count: 2 })).toThrow(/bytes for 2 samples/);
    expect(() => decodeBatch({ ...payload, series: [] })).toThrow(/names series 0 of 0/);
  });
});

describe('privacy rules', () => {
  const base = {
    dropLabels: ['email'],
    hashLabels: ['user_id'],
    valueRules: [],
    secret: 'first-secret-0123456789',
  };

  it('drops and hashes configured labels by a keyed hash: the same value the same under one secret, another under another', async () => {
    const { anonymise, keyedHash } = await import('../../../../src/domain/metrics/privacy.js');
    const a = anonymise({ user_id: '42', email: 'x@y', route: '/pay' }, base);
    expect(Object.keys(a).sort()).toEqual(['route', 'user_id']);
    expect(a.user_id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.user_id).toBe(keyedHash(base.secret, '42'));
    expect(anonymise({ user_id: '42' }, base).user_id).toBe(a.user_id);
    expect(anonymise({ user_id: '42' }, { ...base, secret: 'another-secret-0123456' }).user_id).not.toBe(
      a.user_id,
    );
    // Not a plain digest a dictionary of guesses could reverse: sha256('42') is not it.
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update('42').digest('hex').slice(0, 16)).not.toBe(a.user_id);
  });

  it('hashes or drops values that look like personal data wherever they appear', async () => {
    const { anonymise, keyedHash } = await import('../../../../src/domain/metrics/privacy.js');
    const rules = {
      ...base,
      hashLabels: [],
      dropLabels: [],
      valueRules: [
        { pattern: 'email', action: 'hash' as const },
        { pattern: 'ipv4', action: 'drop' as const },
        { pattern: '/card-\\d{4}/', action: 'hash' as const },
      ],
    };
    const out = anonymise(
      { who: 'login by alice@example.com ok', peer: 'from 10.1.2.3', route: '/pay/card-1234', app: 'web' },
      rules,
    );
    expect(out).toEqual({
      who: `login by ${keyedHash(base.secret, 'alice@example.com')} ok`,
      route: `/pay/${keyedHash(base.secret, 'card-1234')}`,
      app: 'web',
    });
    expect(() => anonymise({ a: 'alice@example.com' }, { ...rules, secret: '' })).toThrow(
      /PRIVACY_HASH_SECRET/,
    );
    // IPv6 addresses, and only they: not times, not `std::`, not words of hex digits.
    const v6 = { ...rules, valueRules: [{ pattern: 'ipv6', action: 'hash' as const }] };
    const kept = { at: 'at 12:30:45', cpp: 'std::vector', hex: 'dead:beef:cafe', mac: '00:1a:2b:3c:4d:5e' };
    expect(anonymise(kept, v6)).toEqual(kept);
    expect(
      anonymise({ a: 'from ::1', b: 'peer 2001:db8::8a2e:370:7334 ok', c: '::ffff:10.0.0.1' }, v6),
    ).toEqual({
      a: `from ${keyedHash(base.secret, '::1')}`,
      b: `peer ${keyedHash(base.secret, '2001:db8::8a2e:370:7334')} ok`,
      c: keyedHash(base.secret, '::ffff:10.0.0.1'),
    });
  });
});
