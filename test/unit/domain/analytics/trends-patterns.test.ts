import { describe, expect, it } from 'vitest';
import {
  autocorrelation,
  detectSeasonality,
  dominantFrequencies,
  matchTemplate,
  recurringAnomalies,
} from '../../../../src/domain/analytics/patterns.js';
import { studentTCdf, studentTCritical } from '../../../../src/domain/analytics/statistics.js';
import { linearTrend } from '../../../../src/domain/analytics/trend.js';
import { createTemplateWatcher, createTrendTracker } from '../../../support/one-series.js';

const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;

describe('statistics', () => {
  it('matches tabulated Student t values', () => {
    expect(studentTCritical(0.95, 10)).toBeCloseTo(2.228, 3);
    expect(studentTCritical(0.99, 30)).toBeCloseTo(2.75, 2);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(2.015, 5)).toBeCloseTo(0.95, 3);
    expect(studentTCritical(0.9999, 1)).toBeCloseTo(6366.2, 0); // far beyond the first search bracket
  });
});

describe('trends', () => {
  it('fits the exact line with a tight interval and p ≈ 0, and finds no slope in pure noise', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const exact = linearTrend(
      xs,
      xs.map((x) => 2 * x + 1 + noise(x) * 0.01),
    );
    expect(exact.slope).toBeCloseTo(2, 3);
    expect(exact.intercept).toBeCloseTo(1, 1);
    expect(exact.slopeLow).toBeLessThan(2.001);
    expect(exact.slopeHigh).toBeGreaterThan(1.999);
    expect(exact.pValue).toBeLessThan(1e-12);
    const flat = linearTrend(
      xs,
      xs.map((x) => noise(x)),
    );
    expect(flat.pValue).toBeGreaterThan(0.05);
    expect(flat.slopeLow).toBeLessThan(0);
    expect(flat.slopeHigh).toBeGreaterThan(0);
  });

  it('reports a trend only when its direction or strength changes, with momentum', () => {
    const tracker = createTrendTracker({ window: 30, every: 5, alpha: 0.01 });
    const changes: string[] = [];
    let y = 0;
    for (let x = 0; x < 300; x++) {
      y += x < 100 ? 1 : x < 200 ? 0 : -1;
      const change = tracker.update(x, y + noise(x) * 0.5);
      if (change) changes.push(`${x}:${change.direction}/${change.strength}`);
    }
    // While the window straddles a bend, the fit weakens before it turns: that is a change too.
    expect(changes.map((c) => c.split(':')[1])).toEqual([
      'rising/strong',
      'rising/moderate',
      'flat/weak',
      'falling/moderate',
      'falling/strong',
    ]);
    const at = changes.map((c) => Number(c.split(':')[0]));
    expect(at[0]).toBe(29);
    expect(at[2]).toBeGreaterThan(100);
    expect(at[2]).toBeLessThan(135);
    expect(at[4]).toBeGreaterThan(200);
    expect(at[4]).toBeLessThan(235);
    expect(tracker.state!.momentum).toBeCloseTo(0, 1);
  });
});

describe('patterns', () => {
  it('finds the period of a seasonal series by autocorrelation', () => {
    const values = Array.from(
      { length: 24 * 20 },
      (_, i) => 10 * Math.sin((2 * Math.PI * i) / 24) + noise(i),
    );
    expect(autocorrelation(values, 3)[0]).toBe(1);
    const season = detectSeasonality(values, 2, 100);
    expect(season?.period).toBe(24);
    expect(season!.strength).toBeGreaterThan(0.9);
    expect(
      detectSeasonality(
        values.map((_, i) => noise(i)),
        2,
        100,
      ),
    ).toBeNull();
  });

  it('finds the dominant frequencies by FFT', () => {
    const values = Array.from(
      { length: 1024 },
      (_, i) => 5 * Math.sin((2 * Math.PI * i) / 16) + 2 * Math.sin((2 * Math.PI * i) / 64),
    );
    const top = dominantFrequencies(values, 2);
    expect(top.map((f) => f.period)).toEqual([16, 64]);
    expect(top[0]!.power).toBeGreaterThan(top[1]!.power);
    expect(top[0]!.power + top[1]!.power).toBeCloseTo(1, 6);
  });

  it('finds a stored shape wherever it occurs, at any scale and offset', () => {
    const template = [0, 1, 4, 9, 4, 1, 0, -2, -4, -2];
    const series = Array.from({ length: 1000 }, (_, i) => noise(i) * 0.2);
    template.forEach((v, j) => {
      series[300 + j] = v * 3 + 50; // scaled and shifted: z-normalisation ignores both
      series[700 + j] = v;
    });
    const matches = matchTemplate(series, template, 0.2);
    expect(matches.map((m) => m.index).sort((a, b) => a - b)).toEqual([300, 700]);
  });

  it('recognises anomalies that recur at a regular interval', () => {
    const hour = 3_600_000;
    const times = [
      5,
      10 * hour,
      11 * hour + 20_000,
      12 * hour - 30_000,
      13 * hour,
      14 * hour + 10_000,
      20 * hour + 5,
    ];
    expect(recurringAnomalies(times, 3, 0.1)).toEqual({
      intervalMs: expect.closeTo(hour, -5),
      occurrences: 5,
    });
    expect(recurringAnomalies([0, 5, 100, 1000], 3)).toBeNull();
  });
});

describe('streaming template watcher', () => {
  it('reports each occurrence of a stored shape once, at the sample that completes it, and resumes from a snapshot', async () => {
    const shape = [0, 1, 4, 9, 4, 1, 0, -2, -4, -2];
    const series = Array.from({ length: 400 }, (_, i) => noise(i) * 0.2);
    shape.forEach((v, j) => {
      series[100 + j] = v * 2 + 7;
      series[300 + j] = v;
    });
    const run = (watcher: ReturnType<typeof createTemplateWatcher>, from: number, to: number) =>
      series.slice(from, to).flatMap((v, i) => watcher.update(v).map((m) => [from + i, m.pattern]));
    const whole = createTemplateWatcher([{ name: 'spike_then_dip', shape, maxDistance: 0.2 }]);
    expect(run(whole, 0, 400)).toEqual([
      [109, 'spike_then_dip'],
      [309, 'spike_then_dip'],
    ]);
    const first = createTemplateWatcher([{ name: 'spike_then_dip', shape, maxDistance: 0.2 }]);
    const part = run(first, 0, 105);
    const second = createTemplateWatcher([{ name: 'spike_then_dip', shape, maxDistance: 0.2 }]);
    second.restore(JSON.parse(JSON.stringify(first.snapshot())));
    expect([...part, ...run(second, 105, 400)]).toEqual(
      run(createTemplateWatcher([{ name: 'spike_then_dip', shape, maxDistance: 0.2 }]), 0, 400),
    );
  });
});
