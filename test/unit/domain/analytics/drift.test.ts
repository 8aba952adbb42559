import { describe, expect, it } from 'vitest';
import { DEFAULT_DRIFT, DriftDetector, driftDetector } from '../../../../src/domain/analytics/drift.js';
import { createEnsemble, DEFAULT_ENSEMBLE } from '../../../../src/domain/analytics/ensemble.js';

/** Deterministic noise in [-0.5, 0.5] (standard deviation 1/√12). */
const noise = (i: number) =>
  Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
const SD = 2 / Math.sqrt(12);
/** 50 ± 1 (standard deviation SD), shifted by `shift` standard deviations over [from, to). */
const series = (length: number, shift = 0, from = length, to = length) =>
  Array.from({ length }, (_, i) => 50 + 2 * noise(i) + (i >= from && i < to ? shift * SD : 0));
const drifts = (values: number[], detector = new DriftDetector()) =>
  values.flatMap((v, i) => (detector.check(v) > 0 ? [i] : []));

describe('drift detector (slow shifts with no new step)', () => {
  it('finds a level that moves by half a standard deviation within a day-scale window', () => {
    const found = drifts(series(4000, 0.5, 3000, 3300));
    expect(found).toHaveLength(1);
    expect(found[0]).toBeGreaterThanOrEqual(3000);
    expect(found[0]).toBeLessThan(3100);
  });

  it('is quiet on noise, and reports one drift per episode (calm between reports)', () => {
    expect(drifts(series(5000))).toEqual([]);
    // A long shift: one report at its start, none while it lasts or as it ends within the calm.
    const found = drifts(series(4000, 1, 2000, 2400));
    expect(found).toHaveLength(1);
    expect(found[0]! - 2000).toBeLessThan(50);
  });

  it('does not count one spike as a drift (standardised values are clipped)', () => {
    const values = series(4000);
    values[3000] = 1e6;
    expect(drifts(values)).toEqual([]);
  });

  it('says nothing while warming up, then a detection on every sample with the drift score or 0', () => {
    const detector = driftDetector();
    const out = series(400).map((v) => detector.update(v));
    expect(out.slice(0, DEFAULT_DRIFT.warmup).every((d) => d === null)).toBe(true);
    for (const d of out.slice(DEFAULT_DRIFT.warmup)) {
      expect(d?.detector).toBe('drift');
      expect(d!.expectedLow).toBeLessThan(d!.expectedHigh);
    }
  });

  it('continues identically after a snapshot through JSON, from a small state', () => {
    const values = series(4000, 0.5, 3000, 3300);
    const a = new DriftDetector();
    for (const v of values.slice(0, 2500)) a.check(v);
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    expect(JSON.stringify(state).length).toBeLessThan(400);
    const b = new DriftDetector();
    b.restore(state);
    const rest = values.slice(2500);
    const fromB = rest.map((v) => b.update(v));
    expect(fromB).toEqual(rest.map((v) => a.update(v)));
    expect(fromB.some((d) => d !== null && d.score > 0)).toBe(true);
  });
});

describe('drift in the default ensemble', () => {
  it('raises a slow shift the members miss to the drift score, naming the drift view', () => {
    const values = series(4000, 0.5, 3000, 3300);
    const plain = createEnsemble({ ...DEFAULT_ENSEMBLE, drift: undefined });
    const ensemble = createEnsemble();
    const withDrift = values.map((v) => ensemble.update(v));
    const without = values.map((v) => plain.update(v).score);
    const at = withDrift.findIndex((d) => d.strongest?.detector === 'drift');
    expect(at).toBeGreaterThanOrEqual(3000);
    expect(at).toBeLessThan(3100);
    expect(without[at]).toBeLessThan(0.5);
    expect(withDrift[at]!.score).toBe(DEFAULT_DRIFT.score);
    expect(withDrift[at]!.strongest?.detector).toBe('drift');
    expect(withDrift[at]!.detections.map((d) => d.detector)).toContain('drift');
    // Everywhere else the members' view, unchanged.
    expect(withDrift.filter((d, i) => i !== at && d.score !== without[i])).toEqual([]);
  });

  it('continues identically after a snapshot through JSON across the drift, and older checkpoints start it fresh', () => {
    const values = series(4000, 0.5, 3000, 3300);
    const a = createEnsemble();
    for (const v of values.slice(0, 2900)) a.update(v);
    const state = JSON.parse(JSON.stringify(a.snapshot()));
    expect(state.drift.count).toBe(2900);
    const b = createEnsemble();
    b.restore(state);
    const rest = values.slice(2900);
    const fromB = rest.map((v) => b.update(v));
    expect(fromB).toEqual(rest.map((v) => a.update(v)));
    expect(fromB.some((d) => d.strongest?.detector === 'drift')).toBe(true);
    const older = createEnsemble();
    older.restore({ ...state, drift: undefined });
    expect(older.snapshot().drift?.count).toBe(0);
  });
});
