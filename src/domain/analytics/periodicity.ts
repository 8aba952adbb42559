import FFT from 'fft.js';
import { fromB64, grown, toB64 } from './columns.js';
import {
  type Frequency,
  type Recurrence,
  recurringAnomalies,
  type Seasonality,
  seasonalityFromAcf,
} from './patterns.js';

export interface PeriodicityOptions {
  /** Analyse a series every this many of its samples (staggered across series by slot). */
  readonly every: number;
  /** Values the window must hold before it is analysed. */
  readonly minSamples: number;
  readonly minPeriod: number;
  /** Autocorrelation a period needs to count as seasonality. */
  readonly minStrength: number;
  /** Dominant frequencies reported at most… */
  readonly frequencies: number;
  /** …each holding at least this share of the signal's power (noise spreads its power thin). */
  readonly minPower: number;
  readonly recurrence: {
    readonly minOccurrences: number;
    /** Gaps within this fraction of their median count as regular. */
    readonly tolerance: number;
    /** The last this many anomaly times are kept per series. */
    readonly keep: number;
  };
}

export const DEFAULT_PERIODICITY: PeriodicityOptions = {
  every: 720,
  minSamples: 64,
  minPeriod: 2,
  minStrength: 0.3,
  frequencies: 3,
  minPower: 0.2,
  recurrence: { minOccurrences: 3, tolerance: 0.1, keep: 32 },
};

/** What a change of a series' periodicity is reported to. */
export interface PeriodicitySink {
  /**
   * A period appeared or moved (by more than 5 %, and at least one sample), as two analyses in a row
   * agree; `previous` is the last one reported.
   */
  seasonalityDetected(
    slot: number,
    ts: number,
    season: Seasonality,
    periodMs: number | null,
    previous: number | null,
  ): void;
  /** The period last reported is gone. */
  seasonalityLost(slot: number, ts: number, previous: number): void;
  /** The dominant frequencies are not those last reported (periods compared within 5 %). */
  frequenciesChanged(slot: number, ts: number, frequencies: Frequency[]): void;
  /** Anomalies recur at a regular interval, first found or with an interval that moved beyond the tolerance. */
  recurringAnomalyDetected(slot: number, ts: number, recurrence: Recurrence): void;
}

export interface PeriodicityBankSnapshot {
  readonly slots: number;
  /** Per slot: where it stands in its analysis schedule, base64 Int32. */
  readonly phase: string;
  /** Per slot: the period last reported (NaN: none), the recurrence interval last reported (NaN: none). */
  readonly period: string;
  readonly interval: string;
  /** Per slot: `frequencies` periods last reported (NaN past the last), base64 Float64. */
  readonly frequencies: string;
  /** Per slot: changes seen once and waiting for confirmation (see `candidate`, `pendingFrequencies`). */
  readonly candidate: string;
  readonly pendingFrequencies: string;
  readonly pendingCount: string;
  /** Per slot: the last `keep` anomaly times (a ring) and how many were seen, base64 Float64. */
  readonly anomalies: string;
  readonly anomalyCount: string;
}

const samePeriod = (a: number, b: number) => Math.abs(a - b) <= Math.max(1, 0.05 * b);
/** A candidate meaning "no seasonality". */
const NONE = -1;
/** Does `seen` (a period or NONE) confirm the candidate (NaN: none yet)? */
const confirms = (candidate: number, seen: number) =>
  !Number.isNaN(candidate) &&
  (candidate === NONE ? seen === NONE : seen !== NONE && samePeriod(seen, candidate));

/**
 * Are `found` the frequencies held at `list[o…]` (periods, NaN past the last, at most `found.length`
 * + 1 looked at)? Frequencies within 5 % or one and a half bins of the current FFT size (`size`) are
 * the same: the bins move as the window grows.
 */
function sameFrequencies(
  found: readonly Frequency[],
  list: Float64Array,
  o: number,
  size: number,
  k: number,
): boolean {
  let held = 0;
  while (held < k && !Number.isNaN(list[o + held]!)) held++;
  if (held !== found.length) return false;
  const close = (p: number, q: number) =>
    Math.abs(1 / p - 1 / q) <= Math.max(1.5 / size, 0.05 / Math.min(p, q));
  return found.every((f) => {
    for (let i = 0; i < held; i++) if (close(f.period, list[o + i]!)) return true;
    return false;
  });
}

/**
 * Seasonality, dominant frequencies and recurring anomalies, per series (dense slots), run
 * periodically and reported only when they change. The analysis of a window is amortised: a series
 * is analysed every `every` samples, at a phase staggered by its slot so that series do not all come
 * due in the same batch. Autocorrelation is computed by FFT (Wiener–Khinchin, zero-padded to avoid
 * wrap-around: O(n log n) rather than O(n · maxLag)); FFT plans are kept per size.
 */
export function createPeriodicityBank(options: PeriodicityOptions = DEFAULT_PERIODICITY) {
  const k = options.frequencies;
  const keep = options.recurrence.keep;
  let phase = new Int32Array(0);
  let period = new Float64Array(0);
  let interval = new Float64Array(0);
  let frequencies = new Float64Array(0);
  /** Per slot: a change seen once, waiting for the next analysis to confirm it (NaN: none; NONE: "no seasonality"). */
  let candidate = new Float64Array(0);
  let pendingFrequencies = new Float64Array(0);
  /** Per slot: how many frequencies are pending (−1: nothing pending). */
  let pendingCount = new Int32Array(0);
  let anomalies = new Float64Array(0);
  let anomalyCount = new Float64Array(0);
  let slots = 0;
  const plans = new Map<number, FFT>();
  const plan = (size: number) => {
    let fft = plans.get(size);
    if (!fft) {
      fft = new FFT(size);
      plans.set(size, fft);
    }
    return fft;
  };

  function ensure(n: number): void {
    if (n <= slots) return;
    const fresh = slots;
    slots = n;
    phase = grown(phase, n, Int32Array);
    period = grown(period, n, Float64Array);
    interval = grown(interval, n, Float64Array);
    frequencies = grown(frequencies, n * k, Float64Array);
    candidate = grown(candidate, n, Float64Array);
    pendingFrequencies = grown(pendingFrequencies, n * k, Float64Array);
    pendingCount = grown(pendingCount, n, Int32Array);
    anomalies = grown(anomalies, n * keep, Float64Array);
    anomalyCount = grown(anomalyCount, n, Float64Array);
    for (let s = fresh; s < n; s++) {
      phase[s] = s % options.every;
      period[s] = Number.NaN;
      interval[s] = Number.NaN;
      frequencies.fill(Number.NaN, s * k, (s + 1) * k);
      candidate[s] = Number.NaN;
      pendingFrequencies.fill(Number.NaN, s * k, (s + 1) * k);
      pendingCount[s] = -1;
    }
  }

  /** Autocorrelation at lags 0..maxLag (biased, as `autocorrelation`), by FFT. */
  function acf(values: Float64Array, maxLag: number): Float64Array {
    const n = values.length;
    const lags = Math.min(maxLag, n - 1) + 1;
    // Zero-padded past n + maxLag, the circular correlation equals the linear one at lags ≤ maxLag.
    let size = 1;
    while (size < n + lags) size *= 2;
    const fft = plan(size);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += values[i]!;
    mean /= n;
    const input = new Float64Array(size);
    for (let i = 0; i < n; i++) input[i] = values[i]! - mean;
    const spectrum = new Float64Array(2 * size);
    fft.realTransform(spectrum, input);
    fft.completeSpectrum(spectrum);
    // The power spectrum is real and symmetric, so its inverse transform is its forward real
    // transform divided by the size (half the work of a complex inverse).
    const power = new Float64Array(size);
    for (let i = 0; i < size; i++) power[i] = spectrum[2 * i]! ** 2 + spectrum[2 * i + 1]! ** 2;
    const r = spectrum;
    fft.realTransform(r, power);
    const out = new Float64Array(lags);
    const r0 = r[0]!;
    for (let lag = 0; lag < lags; lag++) out[lag] = r0 > 1e-12 * n * size ? r[2 * lag]! / r0 : 0;
    return out;
  }

  /** The `count` strongest frequencies over the most recent power-of-two values, as `dominantFrequencies`. */
  function dominant(values: Float64Array): { found: Frequency[]; size: number } {
    let size = 1;
    while (size * 2 <= values.length) size *= 2;
    if (size < 4) return { found: [], size };
    const slice = values.subarray(values.length - size);
    let mean = 0;
    for (let i = 0; i < size; i++) mean += slice[i]!;
    mean /= size;
    const input = new Float64Array(size);
    for (let i = 0; i < size; i++) input[i] = slice[i]! - mean;
    const fft = plan(size);
    const out = new Float64Array(2 * size);
    fft.realTransform(out, input);
    fft.completeSpectrum(out);
    let total = 0;
    for (let bin = 1; bin <= size / 2; bin++) total += out[2 * bin]! ** 2 + out[2 * bin + 1]! ** 2;
    // The k strongest bins, strongest first (ties: the lower bin), by selection: k is small.
    const found: Frequency[] = [];
    const taken = new Uint8Array(size / 2 + 1);
    for (let pick = 0; pick < Math.min(k, size / 2); pick++) {
      let best = -1;
      let bestPower = -1;
      for (let bin = 1; bin <= size / 2; bin++) {
        const p = out[2 * bin]! ** 2 + out[2 * bin + 1]! ** 2;
        if (!taken[bin] && p > bestPower) {
          best = bin;
          bestPower = p;
        }
      }
      taken[best] = 1;
      const share = total ? bestPower / total : 0;
      if (share >= options.minPower)
        found.push({ frequency: best / size, period: size / best, power: share });
    }
    return { found, size };
  }

  return {
    options,
    /** Counts a sample of a slot; true when the slot is due for `analyse`. */
    sample(slot: number, windowSize: number): boolean {
      if (slot >= slots) ensure(slot + 1);
      const p = phase[slot]! + 1;
      phase[slot] = p === options.every ? 0 : p;
      return p === options.every && windowSize >= options.minSamples;
    },

    /**
     * Analyses a slot's window (values oldest first, their times when known) and reports what changed
     * since the last report to `sink`.
     */
    analyse(
      slot: number,
      ts: number,
      values: Float64Array,
      times: Float64Array | null,
      sink: PeriodicitySink,
    ): void {
      // A period must repeat at least three times in the window to count.
      const maxPeriod = Math.floor(values.length / 3);
      const season =
        values.length >= 2 * options.minPeriod + 1
          ? seasonalityFromAcf(acf(values, maxPeriod + 1), options.minPeriod, options.minStrength)
          : null;
      const last = period[slot]!;
      // A change is reported once two analyses in a row agree on it: a window straddling the moment
      // a signal changed shows passing periods that neither the old nor the new signal has.
      const seen = season ? season.period : NONE;
      if (Number.isNaN(last) ? season === null : season !== null && samePeriod(season.period, last)) {
        candidate[slot] = Number.NaN;
      } else if (!confirms(candidate[slot]!, seen)) {
        candidate[slot] = seen;
      } else {
        candidate[slot] = Number.NaN;
        if (season) {
          const spanMs = times && times.length > 1 ? times[times.length - 1]! - times[0]! : null;
          const periodMs = spanMs === null ? null : (season.period * spanMs) / (times!.length - 1);
          sink.seasonalityDetected(slot, ts, season, periodMs, Number.isNaN(last) ? null : last);
          period[slot] = season.period;
        } else {
          sink.seasonalityLost(slot, ts, last);
          period[slot] = Number.NaN;
        }
      }
      const { found, size } = dominant(values);
      const o = slot * k;
      if (sameFrequencies(found, frequencies, o, size, k)) {
        pendingFrequencies.fill(Number.NaN, o, o + k);
        pendingCount[slot] = -1;
      } else if (
        pendingCount[slot] !== found.length ||
        !sameFrequencies(found, pendingFrequencies, o, size, k)
      ) {
        pendingFrequencies.fill(Number.NaN, o, o + k);
        for (const [i, f] of found.entries()) pendingFrequencies[o + i] = f.period;
        pendingCount[slot] = found.length;
      } else {
        sink.frequenciesChanged(slot, ts, found);
        frequencies.fill(Number.NaN, o, o + k);
        for (const [i, f] of found.entries()) frequencies[o + i] = f.period;
        pendingFrequencies.fill(Number.NaN, o, o + k);
        pendingCount[slot] = -1;
      }
    },

    /** Records an anomaly of a slot; reports a recurrence first found or whose interval moved. */
    anomaly(slot: number, ts: number, sink: PeriodicitySink): void {
      if (slot >= slots) ensure(slot + 1);
      const n = anomalyCount[slot]!;
      anomalies[slot * keep + (n % keep)] = ts;
      anomalyCount[slot] = n + 1;
      const held = Math.min(n + 1, keep);
      const times: number[] = [];
      for (let i = n + 1 - held; i <= n; i++) times.push(anomalies[slot * keep + (i % keep)]!);
      const found = recurringAnomalies(
        times,
        options.recurrence.minOccurrences,
        options.recurrence.tolerance,
      );
      if (!found) return;
      const last = interval[slot]!;
      if (Number.isNaN(last) || Math.abs(found.intervalMs - last) > options.recurrence.tolerance * last) {
        sink.recurringAnomalyDetected(slot, ts, found);
        interval[slot] = found.intervalMs;
      }
    },

    /** The slots in [from, to) (default: all). */
    snapshot(from = 0, to = slots): PeriodicityBankSnapshot {
      ensure(to);
      return {
        slots: to - from,
        phase: toB64(phase.subarray(from, to)),
        period: toB64(period.subarray(from, to)),
        interval: toB64(interval.subarray(from, to)),
        frequencies: toB64(frequencies.subarray(from * k, to * k)),
        candidate: toB64(candidate.subarray(from, to)),
        pendingFrequencies: toB64(pendingFrequencies.subarray(from * k, to * k)),
        pendingCount: toB64(pendingCount.subarray(from, to)),
        anomalies: toB64(anomalies.subarray(from * keep, to * keep)),
        anomalyCount: toB64(anomalyCount.subarray(from, to)),
      };
    },
    /** Restores a snapshot into the slots from `at` on. */
    restore(state: PeriodicityBankSnapshot, at = 0): void {
      ensure(at + state.slots);
      fromB64(state.phase, phase.subarray(at));
      fromB64(state.period, period.subarray(at));
      fromB64(state.interval, interval.subarray(at));
      fromB64(state.frequencies, frequencies.subarray(at * k));
      fromB64(state.candidate, candidate.subarray(at));
      fromB64(state.pendingFrequencies, pendingFrequencies.subarray(at * k));
      fromB64(state.pendingCount, pendingCount.subarray(at));
      fromB64(state.anomalies, anomalies.subarray(at * keep));
      fromB64(state.anomalyCount, anomalyCount.subarray(at));
    },
  };
}
