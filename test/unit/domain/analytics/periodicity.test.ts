import { describe, expect, it } from 'vitest';
import { detectSeasonality, dominantFrequencies } from '../../../../src/domain/analytics/patterns.js';
import {
  createPeriodicityBank,
  DEFAULT_PERIODICITY,
  type PeriodicitySink,
} from '../../../../src/domain/analytics/periodicity.js';

/** Deterministic noise in [-0.5, 0.5). */
const noise = (i: number) => {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
};

/** Records what the bank reports, as strings. */
function recorder() {
  const seen: string[] = [];
  const sink: PeriodicitySink = {
    seasonalityDetected: (slot, ts, s, periodMs, previous) =>
      seen.push(`${slot}@${ts} season ${s.period} ${periodMs} from ${previous} (${s.strength.toFixed(6)})`),
    seasonalityLost: (slot, ts, previous) => seen.push(`${slot}@${ts} lost ${previous}`),
    frequenciesChanged: (slot, ts, fs) =>
      seen.push(`${slot}@${ts} frequencies ${fs.map((f) => `${f.period}:${f.power.toFixed(6)}`).join(',')}`),
    recurringAnomalyDetected: (slot, ts, r) =>
      seen.push(`${slot}@${ts} recurs ${r.intervalMs}×${r.occurrences}`),
  };
  return { seen, sink };
}

const options = { ...DEFAULT_PERIODICITY, every: 100, minSamples: 64 };
/** A window of the last `length` values of a signal (up to sample `end`), oldest first, with times 1 s apart. */
const windowOf = (signal: (i: number) => number, end: number, length = 512) => ({
  values: Float64Array.from({ length }, (_, k) => signal(end - length + 1 + k)),
  times: Float64Array.from({ length }, (_, k) => (end - length + 1 + k) * 1000),
});

describe('periodicity per series', () => {
  it('finds the same seasonality and frequencies as the direct computations, and reports only changes', () => {
    const bank = createPeriodicityBank(options);
    const { seen, sink } = recorder();
    const daily = (i: number) => 10 * Math.sin((2 * Math.PI * i) / 24) + noise(i);
    const slower = (i: number) => 10 * Math.sin((2 * Math.PI * i) / 64) + noise(i);
    const signal = (i: number) => (i < 1500 ? daily(i) : i < 3000 ? slower(i) : 3 * noise(i));
    for (let i = 0; i < 4000; i++) {
      const length = Math.min(i + 1, 512);
      if (!bank.sample(0, length)) continue;
      const { values, times } = windowOf(signal, i, length);
      bank.analyse(0, i * 1000, values, times, sink);
    }
    // Due every 100th sample (slot 0: phase 0); a change is reported once two analyses in a row agree:
    // the period at the 200th (over the 200 values so far), the frequency at the 300th (the 64-value
    // FFT at the 100th also saw a second, spurious one).
    const at200 = Array.from(windowOf(daily, 199, 200).values);
    const direct = detectSeasonality(at200, 2, 66); // periods up to a third of the window
    const top = dominantFrequencies(Array.from(windowOf(daily, 299, 300).values), 3).filter(
      (f) => f.power >= 0.2,
    );
    expect(direct?.period).toBe(24);
    expect(top.length).toBe(1);
    expect(seen.slice(0, 2)).toEqual([
      `0@199000 season 24 24000 from null (${direct!.strength.toFixed(6)})`,
      `0@299000 frequencies ${top.map((f) => `${f.period}:${f.power.toFixed(6)}`).join(',')}`,
    ]);
    // Then only the moves: while the 512-value window straddles the switch to period 64 (samples
    // 1500–2011), it sees a mixture (71) before the new period alone; the noise from 3000 on takes
    // until its values outweigh the old signal's.
    expect(seen.slice(2).map((s) => s.replace(/ \(.*\)$/, '').replace(/:[0-9.]+/g, ''))).toEqual([
      '0@1799000 season 71 71000 from 24',
      '0@1899000 frequencies 64',
      '0@1999000 season 64 64000 from 71',
      '0@3599000 lost 64',
      '0@3599000 frequencies ',
    ]);
  });

  it('staggers series so they do not all come due together, and needs minSamples first', () => {
    const bank = createPeriodicityBank(options);
    const due: string[] = [];
    for (let i = 0; i < 250; i++)
      for (const slot of [0, 1, 2]) if (bank.sample(slot, i + 1)) due.push(`${slot}@${i + 1}`);
    expect(due).toEqual(['2@98', '1@99', '0@100', '2@198', '1@199', '0@200']);
    const young = createPeriodicityBank({ ...options, every: 16 });
    const dueYoung: number[] = [];
    for (let i = 0; i < 100; i++) if (young.sample(0, i + 1)) dueYoung.push(i + 1);
    expect(dueYoung).toEqual([64, 80, 96]);
  });

  it('reports anomalies that recur at a regular interval once, and again only when the interval moves', () => {
    const bank = createPeriodicityBank(options);
    const { seen, sink } = recorder();
    const hour = 3_600_000;
    const times = [0, hour + 60_000, 2 * hour - 30_000, 3 * hour, 4 * hour + 20_000, 5 * hour];
    for (const t of times) bank.anomaly(0, t, sink);
    // The median gap of (1 h + 1 min, 1 h − 1.5 min) is the upper one; later gaps stay within 10 % of it.
    expect(seen).toEqual([`0@${2 * hour - 30_000} recurs ${hour + 60_000}×3`]);
    // Two-hourly anomalies from 5 h on: once that run is the longest (7 against 6), it is reported.
    for (let k = 1; k <= 10; k++) bank.anomaly(0, 5 * hour + k * 2 * hour, sink);
    expect(seen.slice(1)).toEqual([`0@${5 * hour + 6 * 2 * hour} recurs ${2 * hour}×7`]);
  });

  it('continues exactly from a snapshot', () => {
    const run = (bank: ReturnType<typeof createPeriodicityBank>, from: number, to: number) => {
      const { seen, sink } = recorder();
      for (let i = from; i < to; i++) {
        for (const slot of [0, 1]) {
          const signal = (j: number) =>
            5 * Math.sin((2 * Math.PI * j) / (slot ? 12 : 30)) + noise(j) + (j > 900 ? 9 : 0);
          if (i % 97 === slot) bank.anomaly(slot, i * 1000, sink);
          if (bank.sample(slot, Math.min(i + 1, 512))) {
            const { values, times } = windowOf(signal, i, Math.min(i + 1, 512));
            bank.analyse(slot, i * 1000, values, times, sink);
          }
        }
      }
      return seen;
    };
    const expected = run(createPeriodicityBank(options), 0, 1500);
    const first = createPeriodicityBank(options);
    const before = run(first, 0, 700);
    const second = createPeriodicityBank(options);
    second.restore(JSON.parse(JSON.stringify(first.snapshot())));
    expect([...before, ...run(second, 700, 1500)]).toEqual(expected);
    expect(expected.length).toBeGreaterThan(4);
  });
});
