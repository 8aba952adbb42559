import { describe, expect, it } from 'vitest';
import { NAB_PROFILES, nabScore, probationRows, sigma } from '../../../src/domain/evaluation/nab-score.js';

const rows = 1000;
const windows: [number, number][] = [
  [300, 349],
  [700, 749],
];
const scores = (alarms: number[]) => Array.from({ length: rows }, (_, k) => (alarms.includes(k) ? 1 : 0));

describe('NAB scoring', () => {
  it('gives the perfect detector 100 and the null detector 0 under every profile', () => {
    for (const profile of Object.values(NAB_PROFILES)) {
      expect(nabScore([{ name: 'f', scores: scores([300, 700]), windows }], profile).normalised).toBeCloseTo(
        100,
        9,
      );
      expect(nabScore([{ name: 'f', scores: scores([]), windows }], profile).normalised).toBe(0);
    }
  });

  it('credits the earliest alarm in a window by its position, and charges a false positive by its distance', () => {
    expect(probationRows(rows)).toBe(150);
    expect(sigma(0)).toBe(0);
    // Alarm halfway through window 1 (k = 324 of 300..349), none in window 2, one false alarm with no window before.
    const r = nabScore([{ name: 'f', scores: scores([200, 324, 340, 700]), windows }], NAB_PROFILES.standard);
    const half = sigma(-(349 - 324 + 1) / 50) / sigma(-1);
    expect(r.raw).toBeCloseTo(half + 1 + -0.11, 9);
    expect(r).toMatchObject({ truePositives: 2, falseNegatives: 0, falsePositives: 1 });
    // An alarm just after a window costs little; far after, the full weight.
    const near = nabScore([{ name: 'f', scores: scores([300, 352, 700]), windows }], NAB_PROFILES.standard);
    expect(near.raw).toBeCloseTo(2 + 0.11 * sigma((352 - 349) / 49), 9);
    const far = nabScore([{ name: 'f', scores: scores([300, 600, 700]), windows }], NAB_PROFILES.standard);
    expect(far.raw).toBeCloseTo(2 - 0.11, 9);
  });

  it('ignores the probation period and picks the best threshold over all files', () => {
    const graded = Array.from({ length: rows }, (_, k) =>
      k === 100 ? 1 : k === 300 || k === 700 ? 0.9 : k === 500 ? 0.5 : 0,
    );
    const r = nabScore([{ name: 'f', scores: graded, windows }], NAB_PROFILES.standard);
    expect(r.threshold).toBe(0.9); // 1.0 only alarms in probation; 0.5 adds a false positive
    expect(r.normalised).toBeCloseTo(100, 9);
  });

  it('refuses a non-finite score instead of looping', () => {
    const bad: number[] = scores([300]);
    bad[500] = Number.NaN;
    expect(() => nabScore([{ name: 'f', scores: bad, windows }], NAB_PROFILES.standard)).toThrow(
      /non-finite anomaly score/,
    );
  });
});
