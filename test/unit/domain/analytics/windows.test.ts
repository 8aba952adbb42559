import { describe, expect, it } from 'vitest';
import { createWindowBank } from '../../../../src/domain/analytics/windows.js';

const stats = (bank: ReturnType<typeof createWindowBank>, slot: number, w: number) => {
  const s = bank.stats(slot, w);
  return [s.count, s.mean, Number(s.std.toFixed(12)), s.min, s.max];
};

describe('sliding windows', () => {
  it('keeps count windows with exact mean, variance, min and max as values come and go', () => {
    const bank = createWindowBank([
      { name: 'short', samples: 3 },
      { name: 'medium', samples: 5 },
    ]);
    const values = [5, 1, 4, 1, 5, 9, 2, 6];
    for (const [i, v] of values.entries()) bank.push(0, i * 1000, v);
    // short: the last 3 are 9, 2, 6: mean 17/3, sample variance ((9-17/3)² + (2-17/3)² + (6-17/3)²)/2 = 37/3
    expect(stats(bank, 0, 0)).toEqual([3, 17 / 3, Number(Math.sqrt(37 / 3).toFixed(12)), 2, 9]);
    // medium: 1, 5, 9, 2, 6: mean 23/5 = 4.6, variance (12.96+0.16+19.36+6.76+1.96)/4 = 10.3
    expect(stats(bank, 0, 1)).toEqual([5, 4.6, Number(Math.sqrt(10.3).toFixed(12)), 1, 9]);
    expect(Array.from(bank.values(0, 1))).toEqual([1, 5, 9, 2, 6]);
  });

  it('keeps min and max right when the extreme leaves the window (monotonic deques)', () => {
    const bank = createWindowBank([{ name: 'w', samples: 4 }]);
    const seen: [number, number][] = [];
    for (const v of [9, 1, 8, 7, 3, 3, 2, 10, 4]) {
      bank.push(0, 0, v);
      seen.push([bank.min(0, 0), bank.max(0, 0)]);
    }
    expect(seen).toEqual([
      [9, 9],
      [1, 9],
      [1, 9],
      [1, 9],
      [1, 8], // 9 left
      [3, 8], // 1 left
      [2, 7], // 8 left
      [2, 10],
      [2, 10],
    ]);
  });

  it('evicts a time window by timestamp, and bounds it at maxSamples', () => {
    const bank = createWindowBank([
      { name: 'minute', ms: 60_000, maxSamples: 1000 },
      { name: 'capped', ms: 60_000, maxSamples: 2 },
    ]);
    bank.push(0, 0, 10);
    bank.push(0, 30_000, 20);
    bank.push(0, 59_999, 30);
    expect(stats(bank, 0, 0)).toEqual([3, 20, 10, 10, 30]);
    expect(stats(bank, 0, 1)).toEqual([2, 25, Number(Math.sqrt(50).toFixed(12)), 20, 30]);
    bank.push(0, 60_000, 40); // (0, 60 000] no longer holds t = 0
    expect(stats(bank, 0, 0)).toEqual([3, 30, 10, 20, 40]);
    bank.push(0, 200_000, 1); // everything else is older than a minute
    expect(stats(bank, 0, 0)).toEqual([1, 1, 0, 1, 1]);
  });

  it('keeps slots apart, stays precise on large steady values, and restores exactly from a snapshot', () => {
    // (The count window of 60 is the longest: the snapshot keeps its values once, and the time
    // window's times.)
    const specs = [
      { name: 'short', samples: 7 },
      { name: 'long', ms: 50_000, maxSamples: 40 },
      { name: 'medium', samples: 60 },
    ];
    const whole = createWindowBank(specs);
    let first = createWindowBank(specs);
    const value = (slot: number, i: number) => (slot === 0 ? 1e9 + (i % 3) : Math.sin(i) * 100 + i);
    const trace: number[][] = [];
    const expected: number[][] = [];
    for (let i = 0; i < 500; i++) {
      if (i === 233) {
        const restored = createWindowBank(specs);
        restored.restore(JSON.parse(JSON.stringify(first.snapshot())));
        first = restored;
      }
      for (const slot of [1, 0]) {
        whole.push(slot, i * 1000, value(slot, i));
        first.push(slot, i * 1000, value(slot, i));
        for (const w of [0, 1, 2]) {
          expected.push([
            whole.count(slot, w),
            whole.mean(slot, w),
            whole.std(slot, w),
            whole.min(slot, w),
            whole.max(slot, w),
          ]);
          trace.push([
            first.count(slot, w),
            first.mean(slot, w),
            first.std(slot, w),
            first.min(slot, w),
            first.max(slot, w),
          ]);
        }
      }
    }
    expect(trace).toEqual(expected);
    // 1e9 + (1, 2, 0, 1, 2, 0, 1): the spread survives (mean 1e9 + 1, sample variance 4/6).
    expect(whole.stats(0, 0).mean).toBe(1e9 + 1);
    expect(whole.stats(0, 0).std).toBeCloseTo(Math.sqrt(4 / 6), 9);
    expect(whole.count(1, 1)).toBe(40);
    expect(whole.max(1, 1)).toBe(Math.max(...Array.from({ length: 40 }, (_, k) => value(1, 460 + k))));
  });

  it('agrees with a brute-force recount at every step, for count and time windows', () => {
    const bank = createWindowBank([
      { name: 'count', samples: 7 },
      { name: 'time', ms: 10_000, maxSamples: 50 },
    ]);
    const seen: [number, number][] = [];
    let t = 0;
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 2000; i++) {
      t += Math.floor(next() * 1500);
      const v = Math.round(next() * 100);
      bank.push(0, t, v);
      seen.push([t, v]);
      const lastSeven = seen.slice(-7).map(([, x]) => x);
      const lastTen = seen.filter(([at]) => at > t - 10_000).map(([, x]) => x);
      for (const [w, values] of [lastSeven, lastTen].entries()) {
        expect([bank.count(0, w), bank.min(0, w), bank.max(0, w)]).toEqual([
          values.length,
          Math.min(...values),
          Math.max(...values),
        ]);
        expect(bank.mean(0, w)).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
      }
    }
  });

  it('restores times exactly, whole milliseconds (kept as steps) or not', () => {
    for (const step of [1000, 0.25]) {
      const specs = [{ name: 'recent', ms: 10 * step, maxSamples: 64 }];
      const bank = createWindowBank(specs);
      for (let i = 0; i < 30; i++) bank.push(0, 1_700_000_000_000 + i * step, i);
      const saved = JSON.parse(JSON.stringify(bank.snapshot()));
      expect(saved.times === undefined).toBe(step === 1000);
      const restored = createWindowBank(specs);
      restored.restore(saved);
      expect(Array.from(restored.times(0, 0)!)).toEqual(Array.from(bank.times(0, 0)!));
      expect(Array.from(restored.values(0, 0))).toEqual(Array.from({ length: 10 }, (_, k) => 20 + k));
    }
  });
});
