import { describe, expect, it } from 'vitest';
import { createEnsemble } from '../../../../src/domain/analytics/ensemble.js';

const noise = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.3;

describe('the ensemble batch path (updateInto)', () => {
  it('gives the same scores and strongest detections as update, sample by sample', () => {
    const values = Array.from({ length: 12_000 }, (_, i) => {
      let v = 100 + 10 * Math.sin((2 * Math.PI * i) / 48) + noise(i);
      if (i % 1500 === 1400) v += 60; // spikes
      if (i > 8000) v += (i - 8000) * 0.01; // a slow drift
      return v;
    });
    const a = createEnsemble();
    const b = createEnsemble();
    const out = new Float64Array(4);
    let anomalies = 0;
    for (const v of values) {
      const d = a.update(v);
      const name = b.updateInto(v, out);
      expect(out[0]).toBe(d.score);
      expect(name).toBe(d.strongest?.detector ?? null);
      if (d.strongest) {
        expect(out[2]).toBe(d.strongest.expectedLow);
        expect(out[3]).toBe(d.strongest.expectedHigh);
      }
      if (d.score >= 0.5) anomalies++;
    }
    expect(anomalies).toBeGreaterThan(3);
    expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
  });
});
