import FFT from 'fft.js';
import { fromB64, grown, toB64 } from './columns.js';

/** Autocorrelation of `values` at lags 0..maxLag (biased estimator, as usual for periodicity). */
export function autocorrelation(values: readonly number[], maxLag: number): number[] {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const out: number[] = [];
  for (let lag = 0; lag <= Math.min(maxLag, n - 1); lag++) {
    let sum = 0;
    for (let i = 0; i + lag < n; i++) sum += (values[i]! - mean) * (values[i + lag]! - mean);
    out.push(variance === 0 ? 0 : sum / variance);
  }
  return out;
}

export interface Seasonality {
  /** The period in samples. */
  readonly period: number;
  /** The autocorrelation at that period, in [0, 1]. */
  readonly strength: number;
}

/**
 * Seasonality by autocorrelation: the lag (between `minPeriod` and `maxPeriod`) with the highest
 * autocorrelation that is a local peak, if it reaches `minStrength`; null otherwise.
 */
export function detectSeasonality(
  values: readonly number[],
  minPeriod = 2,
  maxPeriod = Math.floor(values.length / 2),
  minStrength = 0.3,
): Seasonality | null {
  if (values.length < 2 * minPeriod + 1) return null;
  return seasonalityFromAcf(autocorrelation(values, maxPeriod + 1), minPeriod, minStrength);
}

/**
 * The seasonality an autocorrelation function (lags 0..maxPeriod + 1) shows: the highest local peak
 * at or past `minPeriod` that reaches `minStrength`.
 */
export function seasonalityFromAcf(
  acf: ArrayLike<number>,
  minPeriod: number,
  minStrength: number,
): Seasonality | null {
  let best: Seasonality | null = null;
  for (let lag = Math.max(minPeriod, 1); lag < acf.length - 1; lag++) {
    const r = acf[lag]!;
    if (r > acf[lag - 1]! && r >= acf[lag + 1]! && r >= minStrength && (!best || r > best.strength + 1e-9))
      best = { period: lag, strength: r };
  }
  return best;
}

export interface Frequency {
  /** Cycles per sample. */
  readonly frequency: number;
  /** Samples per cycle. */
  readonly period: number;
  /** Share of the signal's power (DC excluded) at this frequency. */
  readonly power: number;
}

/** The `count` strongest frequencies by FFT (fft.js), over the most recent power-of-two samples. */
export function dominantFrequencies(values: readonly number[], count = 3): Frequency[] {
  let size = 1;
  while (size * 2 <= values.length) size *= 2;
  if (size < 4) return [];
  const slice = values.slice(values.length - size);
  const mean = slice.reduce((a, b) => a + b, 0) / size;
  const fft = new FFT(size);
  const out = fft.createComplexArray();
  fft.realTransform(
    out,
    slice.map((v) => v - mean),
  );
  fft.completeSpectrum(out);
  const powers: { bin: number; power: number }[] = [];
  let total = 0;
  for (let bin = 1; bin <= size / 2; bin++) {
    const power = out[2 * bin]! ** 2 + out[2 * bin + 1]! ** 2;
    powers.push({ bin, power });
    total += power;
  }
  return powers
    .sort((a, b) => b.power - a.power)
    .slice(0, count)
    .map(({ bin, power }) => ({
      frequency: bin / size,
      period: size / bin,
      power: total ? power / total : 0,
    }));
}

function zNormalise(values: ArrayLike<number>, from = 0, length = values.length): Float64Array {
  let mean = 0;
  for (let i = 0; i < length; i++) mean += values[from + i]!;
  mean /= length;
  let variance = 0;
  for (let i = 0; i < length; i++) variance += (values[from + i]! - mean) ** 2;
  const std = Math.sqrt(variance / length) || 1;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = (values[from + i]! - mean) / std;
  return out;
}

export interface TemplateMatch {
  readonly index: number;
  /** z-normalised Euclidean distance divided by √(template length): 0 is a perfect match. */
  readonly distance: number;
}

/**
 * Searches a series for a stored shape (e.g. a known failure signature): z-normalised distance at
 * every offset, and the non-overlapping best matches under `maxDistance`, best first.
 */
export function matchTemplate(
  series: readonly number[],
  template: readonly number[],
  maxDistance = 0.5,
): TemplateMatch[] {
  const m = template.length;
  if (m < 3 || series.length < m) return [];
  const shape = zNormalise(template);
  const candidates: TemplateMatch[] = [];
  for (let i = 0; i + m <= series.length; i++) {
    const window = zNormalise(series, i, m);
    let sum = 0;
    for (let j = 0; j < m; j++) sum += (window[j]! - shape[j]!) ** 2;
    const distance = Math.sqrt(sum / m);
    if (distance <= maxDistance) candidates.push({ index: i, distance });
  }
  candidates.sort((a, b) => a.distance - b.distance || a.index - b.index);
  const chosen: TemplateMatch[] = [];
  for (const c of candidates) if (chosen.every((x) => Math.abs(x.index - c.index) >= m)) chosen.push(c);
  return chosen;
}

export interface Recurrence {
  /** Typical time between anomalies. */
  readonly intervalMs: number;
  readonly occurrences: number;
}

/**
 * Recurring anomalies: the longest run of anomalies (timestamps, ascending) whose gaps are all within
 * `tolerance` (a fraction) of their median gap, if it has at least `minOccurrences` anomalies.
 */
export function recurringAnomalies(
  timestamps: readonly number[],
  minOccurrences = 3,
  tolerance = 0.1,
): Recurrence | null {
  let best: Recurrence | null = null;
  for (let start = 0; start + minOccurrences <= timestamps.length; start++) {
    for (let end = timestamps.length; end - start >= minOccurrences; end--) {
      const gaps = timestamps.slice(start + 1, end).map((t, i) => t - timestamps[start + i]!);
      const sorted = [...gaps].sort((a, b) => a - b);
      const median = sorted[sorted.length >> 1]!;
      if (median > 0 && gaps.every((g) => Math.abs(g - median) <= tolerance * median)) {
        if (!best || end - start > best.occurrences) best = { intervalMs: median, occurrences: end - start };
        break;
      }
    }
  }
  return best;
}

export interface TemplateSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly maxDistance: number;
}

export interface StreamingMatch {
  readonly pattern: string;
  readonly distance: number;
}

export interface TemplateBankSnapshot {
  readonly slots: number;
  /** Each slot's ring of its last values (as long as the longest shape), base64 Float64. */
  readonly ring: string;
  readonly count: string;
  /** Per slot and shape: samples the shape still rests after a match, base64 Int32. */
  readonly resting: string;
}

/**
 * Watches many series (dense slots) for stored shapes as samples arrive, state in typed arrays: after
 * each sample, a slot's last `shape.length` values are compared with each shape (z-normalised
 * distance, as `matchTemplate`, equal up to rounding, without allocation); a match is reported once,
 * then that shape rests for its own length on that slot so one occurrence is one match.
 *
 * Each slot's ring is written twice (at i and i + L), so the last m values are always contiguous; mean
 * and variance take one pass (values shifted by the window's first); and the distance sum stops as
 * soon as it passes the shape's threshold (its terms are squares): most windows are far from every
 * shape.
 */
export function createTemplateBank(templates: readonly TemplateSpec[]) {
  const k = templates.length;
  const L = Math.max(1, ...templates.map((t) => t.shape.length));
  const shapes = templates.map((t) => zNormalise(t.shape));
  const lengths = Int32Array.from(templates, (t) => t.shape.length);
  const maxDistance = Float64Array.from(templates, (t) => t.maxDistance);
  /** The largest sum of squares a match can have: (maxDistance² · m), a hair over to keep ties. */
  const maxSum = Float64Array.from(templates, (t) => t.maxDistance ** 2 * t.shape.length * (1 + 1e-12));
  // Each slot's block: its sample count, where its ring is written next (count mod L, kept apart: a
  // float modulo per sample is slow), each shape's rest, then the ring twice over — record and recent
  // values share cache lines.
  const COUNT = 0;
  const NEXT = 1;
  const REST = 2;
  const RING = REST + k;
  const stride = RING + 2 * L;
  let block = new Float64Array(0);
  let slots = 0;
  /** The matches of the last `update`: template indexes and distances (the first `matches` entries). */
  const matchedTemplate = new Int32Array(k);
  const matchedDistance = new Float64Array(k);

  function ensure(n: number): void {
    if (n <= slots) return;
    slots = n;
    block = grown(block, n * stride, Float64Array);
  }

  return {
    templates,
    matchedTemplate,
    matchedDistance,
    /** Takes one sample of a slot; returns how many shapes it completed (see `matchedTemplate`). */
    update(slot: number, value: number): number {
      if (k === 0) return 0;
      if (slot >= slots) ensure(slot + 1);
      const b = slot * stride;
      const n = block[b + COUNT]! + 1;
      block[b + COUNT] = n;
      const p = block[b + NEXT]!;
      block[b + NEXT] = p + 1 === L ? 0 : p + 1;
      const o = b + RING;
      block[o + p] = value;
      block[o + p + L] = value;
      /** The newest value is at `end` − 1; the m before it are contiguous. */
      const end = o + p + L + 1;
      let matches = 0;
      for (let t = 0; t < k; t++) {
        const r = b + REST + t;
        if (block[r]! > 0) {
          block[r]!--;
          continue;
        }
        const m = lengths[t]!;
        if (n < m) continue;
        const start = end - m;
        // Mean and variance in one pass over values shifted by the first (no cancellation to speak of).
        const first = block[start]!;
        let sum1 = 0;
        let sum2 = 0;
        for (let j = 1; j < m; j++) {
          const d = block[start + j]! - first;
          sum1 += d;
          sum2 += d * d;
        }
        const mean = first + sum1 / m;
        const variance = sum2 - (sum1 * sum1) / m;
        const std = variance > 0 ? Math.sqrt(variance / m) : 1;
        const shape = shapes[t]!;
        const limit = maxSum[t]!;
        let sum = 0;
        let j = 0;
        for (; j < m && sum <= limit; j++) sum += ((block[start + j]! - mean) / std - shape[j]!) ** 2;
        if (j < m) continue;
        const distance = Math.sqrt(sum / m);
        if (distance <= maxDistance[t]!) {
          matchedTemplate[matches] = t;
          matchedDistance[matches] = distance;
          matches++;
          block[r] = m - 1;
        }
      }
      return matches;
    },
    /** The slots in [from, to) (default: all). */
    snapshot(from = 0, to = slots): TemplateBankSnapshot {
      ensure(to);
      const n = to - from;
      const ring = new Float64Array(n * L);
      const count = new Float64Array(n);
      const resting = new Int32Array(n * k);
      for (let i = 0; i < n; i++) {
        const b = (from + i) * stride;
        ring.set(block.subarray(b + RING, b + RING + L), i * L);
        count[i] = block[b + COUNT]!;
        for (let t = 0; t < k; t++) resting[i * k + t] = block[b + REST + t]!;
      }
      return { slots: n, ring: toB64(ring), count: toB64(count), resting: toB64(resting) };
    },
    /** Restores a snapshot into the slots from `at` on. */
    restore(state: TemplateBankSnapshot, at = 0): void {
      ensure(at + state.slots);
      const ring = new Float64Array(state.slots * L);
      const count = new Float64Array(state.slots);
      const resting = new Int32Array(state.slots * k);
      fromB64(state.ring, ring);
      fromB64(state.count, count);
      fromB64(state.resting, resting);
      for (let s = 0; s < state.slots; s++) {
        const b = (at + s) * stride;
        const values = ring.subarray(s * L, (s + 1) * L);
        block.set(values, b + RING);
        block.set(values, b + RING + L);
        block[b + COUNT] = count[s]!;
        block[b + NEXT] = count[s]! % L;
        for (let t = 0; t < k; t++) block[b + REST + t] = resting[s * k + t]!;
      }
    },
  };
}
