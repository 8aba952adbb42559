import { describe, expect, it } from 'vitest';
import { BlockStats, RollingStats, zScoreDetector } from '../../../../src/domain/analytics/detectors.js';
import { createEnsemble } from '../../../../src/domain/analytics/ensemble.js';
import { SeasonalDetector } from '../../../../src/domain/analytics/seasonal.js';
import { TransitionDetector } from '../../../../src/domain/analytics/transitions.js';

const noise = (i: number) => Math.sin(i * 12.9898) * 0.5;

describe('bounded detector state', () => {
  it('BlockStats is the exact rolling window when every block holds one value', () => {
    const exact = new RollingStats(50);
    const blocks = new BlockStats(50, 50);
    for (let i = 0; i < 400; i++) {
      const v = 1e6 + 10 * Math.sin(i / 7) + noise(i);
      exact.push(v);
      blocks.push(v);
      expect(blocks.length).toBe(exact.length);
      expect(blocks.mean).toBeCloseTo(exact.mean, 6);
      expect(blocks.std).toBeCloseTo(exact.std, 6);
    }
  });

  it('BlockStats covers between window and window + block − 1 values, in 16 bytes a block', () => {
    const stats = new BlockStats(6400, 32);
    expect(stats.blockSize).toBe(200);
    for (let i = 0; i < 20_000; i++) {
      stats.push(i % 17);
      if (i > 6400) {
        expect(stats.length).toBeGreaterThanOrEqual(6400);
        expect(stats.length).toBeLessThan(6600);
      }
    }
    expect(stats.stateBytes).toBeLessThanOrEqual(8 * (8 + 64));
  });

  it('the z-score restores a checkpoint of the old 6,400-value ring', () => {
    const values = Array.from({ length: 7000 }, (_, i) => 100 + 5 * Math.sin(i / 10) + noise(i));
    const ring = new RollingStats(6400);
    for (const v of values) ring.push(v);
    const z = zScoreDetector(6400, 30, 64);
    z.restore(JSON.parse(JSON.stringify(ring.snapshot())));
    const d = z.update(100)!;
    // The same statistics as the ring's (the ring's 6,400 values are 64 whole blocks).
    expect((d.expectedLow + d.expectedHigh) / 2).toBeCloseTo(ring.mean, 9);
    expect((d.expectedHigh - d.expectedLow) / 6).toBeCloseTo(ring.std, 9);
  });

  it('seasonal and transition members restore checkpoints of their older layouts', () => {
    const values = Array.from(
      { length: 3000 },
      (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 48) + noise(i),
    );
    const s = new SeasonalDetector();
    const t = new TransitionDetector();
    for (const v of values) {
      s.update(v);
      t.update(v);
    }
    // Older layouts: doubles for the seasonal history and the transitions' recent samples.
    const sState = s.snapshot();
    const kept = new Float32Array(Buffer.from(sState.ring32!, 'base64').buffer.slice(0));
    const doubles = Float64Array.from(kept, (x) => x + sState.origin!);
    const older = {
      ...sState,
      ring32: undefined,
      origin: undefined,
      ring: Buffer.from(doubles.buffer).toString('base64'),
    };
    const s2 = new SeasonalDetector();
    s2.restore(JSON.parse(JSON.stringify(older)));
    const tState = t.snapshot();
    const recent = Float64Array.from(values.slice(-2000));
    const t2 = new TransitionDetector();
    t2.restore({ ...tState, recent16: undefined, recent: Buffer.from(recent.buffer).toString('base64') });
    const next = [...values.slice(0, 200), 180, ...values.slice(0, 100)];
    for (const v of next) {
      expect(s2.update(v)?.score ?? null).toBeCloseTo(s.update(v)?.score ?? 0, 4);
      expect(t2.update(v)).toEqual(t.update(v));
    }
  });

  it('the default ensemble keeps about 10 KB of state a series however long it runs', () => {
    const e = createEnsemble();
    for (let i = 0; i < 30_000; i++) e.update(50 + 5 * Math.sin(i / 9) + noise(i));
    expect(JSON.stringify(e.snapshot()).length).toBeLessThan(16_000);
  });
});
