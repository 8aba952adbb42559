import { describe, expect, it } from 'vitest';
import {
  CALIBRATION_BINS,
  DEFAULT_CALIBRATION,
  ScoreCalibrator,
} from '../../../../src/domain/analytics/calibration.js';
import type { Detection, Detector } from '../../../../src/domain/analytics/detector.js';
import {
  createEnsemble,
  DEFAULT_ENSEMBLE,
  type EnsembleConfig,
} from '../../../../src/domain/analytics/ensemble.js';

/** Deterministic uniform numbers in [0, 1). */
const rand = (i: number) => {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
};

/** A member that reports the given scores, one a sample (a stand-in for detectors with a known output). */
function scripted(scores: readonly number[]): Detector {
  let i = 0;
  return {
    name: 'scripted',
    update: (): Detection => ({
      score: scores[i++] ?? 0,
      detector: 'scripted',
      expectedLow: 0,
      expectedHigh: 1,
    }),
    snapshot: () => i,
    restore: (state) => {
      i = state as number;
    },
  };
}

const PLAIN: EnsembleConfig = { alarmLevel: 1, quietSamples: 0, quietFactor: 1, combine: 'mean' };
const CALIBRATED: EnsembleConfig = { ...PLAIN, calibration: DEFAULT_CALIBRATION };

/** An always-a-bit-excited member: 0.6 on 3% of samples (its usual bursts), small scores otherwise. */
const excited = (length: number) =>
  Array.from({ length }, (_, i) => (rand(i) < 0.03 ? 0.6 : 0.2 * rand(i + 1e5)));

describe('score calibration (ScoreCalibrator)', () => {
  it('tracks a high quantile of the recent scores within a bin', () => {
    const c = new ScoreCalibrator({ quantile: 0.9, horizon: 1e6 });
    for (let i = 0; i < 20_000; i++) c.calibrate(rand(i));
    expect(Math.abs(c.quantile() - 0.9)).toBeLessThan(1 / CALIBRATION_BINS);
    expect(Math.abs(c.quantile(0.5) - 0.5)).toBeLessThan(1 / CALIBRATION_BINS);
  });

  it('forgets: after the scores fall, the quantile follows within a few horizons', () => {
    const c = new ScoreCalibrator({ quantile: 0.99, horizon: 500 });
    for (let i = 0; i < 5000; i++) c.calibrate(0.9);
    expect(c.quantile()).toBeGreaterThan(0.85);
    for (let i = 0; i < 5000; i++) c.calibrate(0.05);
    expect(c.quantile()).toBeLessThan(0.1);
  });

  it('passes scores unchanged while warming up', () => {
    const c = new ScoreCalibrator();
    const scores = excited(DEFAULT_CALIBRATION.warmup);
    expect(scores.map((s) => c.calibrate(s))).toEqual(scores);
  });
});

describe('score calibration in the ensemble', () => {
  it("drops a noisy series' false alarms, and a real spike still scores high", () => {
    const scores = excited(6000);
    scores[5000] = 1; // a real spike: beyond anything the series did before
    const run = (config: EnsembleConfig) => {
      const ensemble = createEnsemble(config, [scripted(scores)]);
      return scores.map(() => ensemble.update(0).score);
    };
    const plain = run(PLAIN);
    const calibrated = run(CALIBRATED);
    const alarms = (out: number[]) => out.filter((s, i) => i >= 1000 && i !== 5000 && s >= 0.55).length;
    expect(alarms(plain)).toBeGreaterThan(100);
    expect(alarms(calibrated)).toBe(0);
    expect(calibrated[5000]).toBe(1);
    // A quiet stretch scores as before (small scores are only halved, never raised).
    expect(calibrated.every((s, i) => s <= plain[i]!)).toBe(true);
  });

  it('leaves a quiet series with one spike as it was (the default members)', () => {
    const values = Array.from({ length: 3000 }, (_, i) => 50 + rand(i));
    values[2500] = 80;
    const withCalibration = createEnsemble();
    const without = createEnsemble({ ...DEFAULT_ENSEMBLE, calibration: undefined });
    const a = values.map((v) => withCalibration.update(v).score);
    const b = values.map((v) => without.update(v).score);
    expect(a[2500]).toBeGreaterThan(0.9);
    expect(a[2500]).toBe(b[2500]);
    expect(a.filter((s, i) => i !== 2500 && s >= 0.55)).toEqual(b.filter((s, i) => i !== 2500 && s >= 0.55));
  });

  it('round-trips through a snapshot (JSON), and a checkpoint from before calibration restores', () => {
    const values = Array.from({ length: 4000 }, (_, i) => 50 + rand(i) + (rand(i + 7e5) < 0.02 ? 10 : 0));
    const a = createEnsemble();
    for (const v of values.slice(0, 2500)) a.update(v);
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    expect(state.calibration.count).toBe(2500);
    expect(state.calibration.bins).toHaveLength(CALIBRATION_BINS);
    // Bounded: 32 counts, a weight and a count.
    expect(JSON.stringify(state.calibration).length).toBeLessThan(1200);
    const b = createEnsemble();
    b.restore(state);
    const rest = values.slice(2500);
    expect(rest.map((v) => b.update(v))).toEqual(rest.map((v) => a.update(v)));

    const older = createEnsemble();
    const { calibration: _, ...before } = state;
    older.restore(before);
    expect(older.snapshot().calibration?.count).toBe(0);
    // It warms up again, passing scores through meanwhile; nothing throws.
    for (const v of rest) expect(Number.isFinite(older.update(v).score)).toBe(true);
  });

  it('keeps its state out of snapshots of ensembles without it', () => {
    const plain = createEnsemble({ ...DEFAULT_ENSEMBLE, calibration: undefined });
    plain.update(1);
    expect(plain.snapshot().calibration).toBeUndefined();
  });
});
