import { describe, expect, it } from 'vitest';
import type { Detector } from '../../../../src/domain/analytics/detector.js';
import { FULL_SCALE_SIGMAS, zToScore } from '../../../../src/domain/analytics/detector.js';
import { RollingStats, zScoreDetector } from '../../../../src/domain/analytics/detectors.js';
import { createEnsemble, DEFAULT_ENSEMBLE } from '../../../../src/domain/analytics/ensemble.js';
import { seasonalDetector } from '../../../../src/domain/analytics/seasonal.js';
import { transitionDetector } from '../../../../src/domain/analytics/transitions.js';

/** Deterministic noise in [-1, 1]. */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
const run = (detector: Detector, values: number[]) => values.map((v) => detector.update(v)?.score ?? 0);

describe('detectors on planted anomalies', () => {
  const base = Array.from({ length: 600 }, (_, i) => 50 + noise(i) * 2);

  it('keeps rolling mean and deviation exactly over the window', () => {
    const stats = new RollingStats(3);
    for (const v of [1, 2, 3, 4]) stats.push(v);
    expect(stats.mean).toBe(3);
    expect(stats.std).toBeCloseTo(1, 12);
  });

  it('calibrates deviations to graded scores', () => {
    expect(zToScore(0)).toBe(0);
    expect(zToScore(3)).toBeLessThan(zToScore(5));
    expect(zToScore(-5)).toBe(zToScore(5));
    expect(zToScore(100)).toBe(1);
  });

  for (const make of [() => zScoreDetector()]) {
    it(`${make().name}: a spike scores far above the noise, and nothing scores during warm-up`, () => {
      const values = [...base];
      values[400] = 80;
      const scores = run(make(), values);
      expect(scores.slice(0, 30).every((s) => s === 0)).toBe(true);
      expect(scores[400]).toBeGreaterThan(0.9);
      expect(Math.max(...scores.slice(100, 400))).toBeLessThan(0.5);
    });
  }

  it('ensemble: damping after an alarm, so that one anomaly raises one alarm', () => {
    const values = [...base];
    values[400] = 90;
    values[410] = 90;
    const ensemble = createEnsemble({ alarmLevel: 0.5, quietSamples: 150, quietFactor: 0.3 }, [
      zScoreDetector(6400),
    ]);
    const out = values.map((v) => ensemble.update(v));
    expect(out[400]!.score).toBe(1);
    expect(out[400]!.strongest?.detector).toBe('zscore');
    expect(out[410]!.score).toBeLessThanOrEqual(0.3);
  });

  it('default ensemble: a spike scores near 1, the same spike again soon after scores at most half', () => {
    const values = [...base];
    values[400] = 90;
    values[410] = 90;
    const ensemble = createEnsemble();
    const out = values.map((v) => ensemble.update(v));
    expect(out[400]!.score).toBeGreaterThan(0.99);
    expect(out[400]!.detections.map((d) => d.detector)).toEqual(['transition', 'zscore']);
    expect(out[410]!.score).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out.slice(100, 400).map((d) => d.score))).toBeLessThan(0.5);
  });
});

describe('far-beyond-normal excursions (default ensemble)', () => {
  /** 40 ± 2, with a spike of 99 at each of `spikes`. */
  const series = (length: number, spikes: number[]) =>
    Array.from({ length }, (_, i) => (spikes.includes(i) ? 99 : 40 + Math.sin(i) * 2));

  it('reports a repeated spike: the first near 1, the same again 200 samples later at 0.5 at least', () => {
    const ensemble = createEnsemble();
    const out = series(700, [300, 500]).map((v) => ensemble.update(v).score);
    expect(out[300]).toBeGreaterThanOrEqual(0.9);
    expect(out[500]).toBeGreaterThanOrEqual(0.5); // not novel any more, still far beyond normal
    expect(out[299]).toBeLessThan(0.3);
    expect(Math.max(...out.slice(301, 500), ...out.slice(501))).toBeLessThan(0.3);
  });

  it('scores the first excursion after a calm by its distance, whether or not the step is new', () => {
    const ensemble = createEnsemble();
    const out = series(1300, [300, 500, 1100]).map((v) => ensemble.update(v));
    const { sigmas } = out[1100]!.strongest!;
    expect(sigmas).toBeGreaterThan(FULL_SCALE_SIGMAS);
    expect(out[1100]!.score).toBeCloseTo((1 + Math.log10(sigmas! / FULL_SCALE_SIGMAS)) / 2, 12);
    expect(out[1100]!.score).toBeGreaterThan(0.75);
    // Without the excursion rule the same spike is only as strong as its half of the mean.
    const plain = createEnsemble({ ...DEFAULT_ENSEMBLE, excursions: undefined });
    expect(series(1101, [300, 500, 1100]).map((v) => plain.update(v).score)[1100]).toBe(0.5);
  });

  it('continues identically after a snapshot through JSON between two excursions', () => {
    const values = series(1300, [300, 500, 1100]);
    const a = createEnsemble();
    for (const v of values.slice(0, 450)) a.update(v);
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    expect(state.sinceExcursion).toBe(149);
    const b = createEnsemble();
    b.restore(state);
    const rest = values.slice(450);
    expect(rest.map((v) => b.update(v))).toEqual(rest.map((v) => a.update(v)));
    // A checkpoint from before excursions were tracked restores as after a long calm.
    const older = createEnsemble();
    older.restore({ ...state, sinceExcursion: undefined });
    const next = older.update(99);
    expect(next.score).toBeGreaterThan(0.5);
  });

  it('level detectors say how far the value is, uncapped: score = zToScore(sigmas)', () => {
    const z = zScoreDetector(6400);
    const s = seasonalDetector({ history: 256, firstEstimate: 256, maxPeriod: 64, minPeriod: 4 });
    const values = Array.from(
      { length: 600 },
      (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 24) + noise(i),
    );
    values[500] = 200;
    const atSpike: number[] = [];
    for (const [i, v] of values.entries()) {
      for (const d of [z.update(v), s.update(v)]) {
        if (!d) continue;
        expect(d.score).toBe(zToScore(d.sigmas!));
        if (i === 500) atSpike.push(d.sigmas!);
      }
    }
    expect(atSpike).toHaveLength(2); // both detectors, each far past their full scale
    for (const sigmas of atSpike) expect(sigmas).toBeGreaterThan(5 * FULL_SCALE_SIGMAS);
  });
});

describe('detectors, after review', () => {
  it('keeps the spread of large steady values (no cancellation in the sums)', () => {
    const detector = zScoreDetector(500);
    const scores = Array.from({ length: 600 }, (_, i) => detector.update(1e9 + noise(i))?.score ?? 0);
    expect(Math.max(...scores.slice(100))).toBeLessThan(0.5);
    const stats = new RollingStats(3);
    for (const v of [1e12 + 1, 1e12 + 2, 1e12 + 3]) stats.push(v);
    expect(stats.mean).toBe(1e12 + 2);
    expect(stats.std).toBeCloseTo(1, 9);
  });
});

describe('ensemble checkpoints', () => {
  const seasonalSeries = (length: number) =>
    Array.from({ length }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 48) + noise(i));

  it('continues identically after a snapshot through JSON (default members)', () => {
    const values = seasonalSeries(3000);
    values[2500] = 150;
    const a = createEnsemble();
    for (const v of values.slice(0, 1500)) a.update(v);
    const b = createEnsemble();
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = values.slice(1500);
    const fromB = rest.map((v) => b.update(v));
    expect(fromB).toEqual(rest.map((v) => a.update(v)));
    expect(fromB.some((d) => d.strongest?.detector === 'seasonal')).toBe(true);
  });

  it.each([10, 63, 64, 65, 200, 1023, 1024, 1025, 1999, 2000, 2001, 3000])(
    'continues identically from a checkpoint at sample %i, whether its rings are still growing or full',
    (at) => {
      const values = seasonalSeries(3600).map((v, i) => (i % 700 === 350 ? v * 3 : v));
      const whole = createEnsemble();
      const expected = values.map((v) => whole.update(v).score);
      const first = createEnsemble();
      for (const v of values.slice(0, at)) first.update(v);
      const second = createEnsemble();
      second.restore(JSON.parse(JSON.stringify(first.snapshot())));
      expect(values.slice(at).map((v) => second.update(v).score)).toEqual(expected.slice(at));
    },
  );

  it('restores only the members a checkpoint was taken from: others start fresh', () => {
    const values = seasonalSeries(400);
    const older = createEnsemble(undefined, [zScoreDetector(6400)]);
    for (const v of values) older.update(v);
    const named = JSON.parse(JSON.stringify(older.snapshot()));
    const unnamed = { sinceAlarm: null, members: named.members }; // a checkpoint from before names
    const fromNamed = createEnsemble(undefined, [zScoreDetector(6400), transitionDetector()]);
    fromNamed.restore(named);
    expect(fromNamed.update(values[0]!).detections.map((d) => d.detector)).toEqual(['zscore']);
    const fromUnnamed = createEnsemble();
    fromUnnamed.restore(unnamed);
    expect(fromUnnamed.update(values[0]!).detections).toEqual([]); // all warming up again
  });
});
