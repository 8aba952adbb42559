/**
 * A series' cadence, from the times of its last samples: the median interval between them and how
 * regular they are. Only a series with a regular cadence has an "expected next sample" that missing
 * several of means something; an irregular one (events, sporadic pushes) is never absent.
 */
export interface Cadence {
  /** The median interval between consecutive samples (ms). */
  readonly intervalMs: number;
  /** (p90 − p10) of the intervals over their median: 0 for a perfect metronome. */
  readonly spread: number;
  /** Intervals it was measured on. */
  readonly intervals: number;
}

/** Fewest intervals a cadence is judged on. */
export const MIN_CADENCE_INTERVALS = 8;
/** Most spread a regular cadence has (a scrape every 10 s ± 1.25 s, say). */
export const REGULAR_SPREAD = 0.25;

const at = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** The cadence of samples at these times (any order), or null with too few of them. */
export function cadenceOf(times: readonly number[]): Cadence | null {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const gaps = sorted
    .slice(1)
    .map((t, i) => t - sorted[i]!)
    .sort((a, b) => a - b);
  if (gaps.length < MIN_CADENCE_INTERVALS) return null;
  const median = at(gaps, 0.5);
  if (!(median > 0)) return null;
  return { intervalMs: median, spread: (at(gaps, 0.9) - at(gaps, 0.1)) / median, intervals: gaps.length };
}

export const isRegular = (c: Cadence | null | undefined): c is Cadence =>
  c !== null && c !== undefined && c.spread <= REGULAR_SPREAD;
