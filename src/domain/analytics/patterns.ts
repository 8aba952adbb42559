import FFT from 'fft.js';

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
  const acf = autocorrelation(values, maxPeriod + 1);
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

/**
 * Watches one series for stored shapes as samples arrive: after each sample, the last `shape.length`
 * values are compared with each shape (z-normalised distance, as `matchTemplate`); a match is
 * reported once, then that shape rests for its own length so one occurrence is one match.
 */
export function createTemplateWatcher(templates: readonly TemplateSpec[]) {
  const longest = Math.max(0, ...templates.map((t) => t.shape.length));
  const ring = new Float64Array(Math.max(1, longest));
  const shapes = templates.map((t) => zNormalise(t.shape));
  let count = 0;
  let resting = templates.map(() => 0);
  return {
    update(value: number): StreamingMatch[] {
      ring[count % ring.length] = value;
      count++;
      const out: StreamingMatch[] = [];
      templates.forEach((template, k) => {
        if (resting[k]! > 0) {
          resting[k]!--;
          return;
        }
        const m = template.shape.length;
        if (count < m) return;
        const window = new Float64Array(m);
        for (let j = 0; j < m; j++) window[j] = ring[(count - m + j) % ring.length]!;
        const z = zNormalise(window);
        const shape = shapes[k]!;
        let sum = 0;
        for (let j = 0; j < m; j++) sum += (z[j]! - shape[j]!) ** 2;
        const distance = Math.sqrt(sum / m);
        if (distance <= template.maxDistance) {
          out.push({ pattern: template.name, distance });
          resting[k] = m - 1;
        }
      });
      return out;
    },
    snapshot() {
      return { ring: Array.from(ring), count, resting: [...resting] };
    },
    restore(state: { ring: number[]; count: number; resting: number[] }) {
      ring.set(state.ring);
      count = state.count;
      resting = [...state.resting];
    },
  };
}
