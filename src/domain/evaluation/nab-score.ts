/**
 * The Numenta Anomaly Benchmark's scoring, written from its published rules (shared data README):
 * probation, the scaled sigmoid, earliest-alarm credit per window, false-positive costs by distance
 * past the previous window, the best single threshold over all files per profile, and normalisation
 * between the null (never alarm) and the perfect detector. Pure; rows are identified by position.
 */

export interface NabProfile {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export const NAB_PROFILES = {
  standard: { tp: 1.0, fp: -0.11, fn: -1.0 },
  reward_low_FP_rate: { tp: 1.0, fp: -0.22, fn: -1.0 },
  reward_low_FN_rate: { tp: 1.0, fp: -0.11, fn: -2.0 },
} as const satisfies Record<string, NabProfile>;

export interface NabFile {
  readonly name: string;
  /** One score per data row, in file order. */
  readonly scores: readonly number[];
  /** Anomaly windows as inclusive row ranges [l, r]. */
  readonly windows: readonly (readonly [number, number])[];
}

export interface NabResult {
  readonly threshold: number;
  readonly raw: number;
  readonly normalised: number;
  readonly truePositives: number;
  readonly falseNegatives: number;
  readonly falsePositives: number;
}

export const sigma = (x: number) => 2 / (1 + Math.exp(5 * x)) - 1;

export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** Row index of the first row whose timestamp equals `timestamp` (ignoring a fractional-second suffix). */
export function rowOf(timestamps: readonly string[], timestamp: string): number {
  const wanted = timestamp.replace(/\.\d+$/, '');
  const index = timestamps.indexOf(wanted);
  if (index === -1) throw new Error(`label timestamp ${timestamp} is not a row of the file`);
  return index;
}

interface Candidate {
  readonly file: number;
  readonly row: number;
  readonly score: number;
}

/**
 * Scores every file with one threshold per profile, chosen to maximise the summed raw score: all
 * distinct post-probation scores are candidates, and so is "no alarm"; on ties the higher threshold
 * wins. Implemented as one sweep from the highest score down, adding alarms and updating the raw
 * score incrementally.
 */
export function nabScore(files: readonly NabFile[], profile: NabProfile): NabResult {
  const windowsCount = files.reduce((n, f) => n + f.windows.length, 0);
  const nullScore = profile.fn * windowsCount;
  const perfect = profile.tp * windowsCount;
  // Per file: window index of each row (-1 outside), and the window before each row.
  const windowOf: Int32Array[] = [];
  const previousWindow: Int32Array[] = [];
  const candidates: Candidate[] = [];
  files.forEach((file, f) => {
    const rows = file.scores.length;
    const inside = new Int32Array(rows).fill(-1);
    const before = new Int32Array(rows).fill(-1);
    file.windows.forEach(([l, r], w) => {
      for (let k = l; k <= r && k < rows; k++) inside[k] = w;
    });
    let last = -1;
    for (let k = 0; k < rows; k++) {
      before[k] = last;
      if (inside[k] !== -1 && (k + 1 >= rows || inside[k + 1] !== inside[k])) last = inside[k]!;
    }
    windowOf.push(inside);
    previousWindow.push(before);
    for (let k = probationRows(rows); k < rows; k++) {
      const score = file.scores[k]!;
      if (!Number.isFinite(score))
        throw new Error(`${file.name}: row ${k} has a non-finite anomaly score (${score})`);
      candidates.push({ file: f, row: k, score });
    }
  });
  candidates.sort((a, b) => b.score - a.score);

  const credit = (file: NabFile, w: number, k: number) => {
    const [l, r] = file.windows[w]!;
    return (profile.tp * sigma(-(r - k + 1) / (r - l + 1))) / sigma(-1);
  };
  const falsePositiveCost = (f: number, k: number) => {
    const w = previousWindow[f]![k]!;
    if (w === -1) return profile.fp;
    const [l, r] = files[f]!.windows[w]!;
    const y = (k - r) / Math.max(1, r - l);
    return y > 3 ? profile.fp : Math.abs(profile.fp) * sigma(y);
  };

  const earliest = files.map((f) => new Int32Array(f.windows.length).fill(-1));
  let raw = nullScore;
  let best = { threshold: Number.POSITIVE_INFINITY, raw, tp: 0, fp: 0 };
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < candidates.length; ) {
    const threshold = candidates[i]!.score;
    for (; i < candidates.length && candidates[i]!.score === threshold; i++) {
      const { file: f, row: k } = candidates[i]!;
      const w = windowOf[f]![k]!;
      if (w === -1) {
        raw += falsePositiveCost(f, k);
        fp++;
        continue;
      }
      const current = earliest[f]![w]!;
      if (current === -1) {
        raw += credit(files[f]!, w, k) - profile.fn;
        earliest[f]![w] = k;
        tp++;
      } else if (k < current) {
        raw += credit(files[f]!, w, k) - credit(files[f]!, w, current);
        earliest[f]![w] = k;
      }
    }
    if (raw > best.raw) best = { threshold, raw, tp, fp };
  }
  return {
    threshold: best.threshold,
    raw: best.raw,
    normalised: perfect === nullScore ? 0 : (100 * (best.raw - nullScore)) / (perfect - nullScore),
    truePositives: best.tp,
    falseNegatives: windowsCount - best.tp,
    falsePositives: best.fp,
  };
}
