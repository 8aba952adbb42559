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

/** A post-probation row as a threshold candidate (`nabCandidates`). */
export interface NabCandidate {
  readonly file: number;
  readonly row: number;
  readonly score: number;
}

/** Every post-probation row of the files, highest score first (what `nabScore` sweeps). */
export function nabCandidates(files: readonly NabFile[]): NabCandidate[] {
  const candidates: NabCandidate[] = [];
  files.forEach((file, f) => {
    const rows = file.scores.length;
    for (let k = probationRows(rows); k < rows; k++) {
      const score = file.scores[k]!;
      if (!Number.isFinite(score))
        throw new Error(`${file.name}: row ${k} has a non-finite anomaly score (${score})`);
      candidates.push({ file: f, row: k, score });
    }
  });
  return candidates.sort((a, b) => b.score - a.score);
}

/**
 * Scores every file with one threshold per profile, chosen to maximise the summed raw score: all
 * distinct post-probation scores are candidates, and so is "no alarm"; on ties the higher threshold
 * wins. Implemented as one sweep from the highest score down, adding alarms and updating the raw
 * score incrementally. `candidates` (`nabCandidates(files)`) may be given when the same files are
 * scored several times, and `include` (one flag a file) scores only some of them (the others' rows
 * and windows are ignored), as if only those were given.
 */
export function nabScore(
  files: readonly NabFile[],
  profile: NabProfile,
  candidates: readonly NabCandidate[] = nabCandidates(files),
  include?: readonly boolean[],
): NabResult {
  const windowsCount = files.reduce((n, f, i) => n + (include && !include[i] ? 0 : f.windows.length), 0);
  const nullScore = profile.fn * windowsCount;
  const perfect = profile.tp * windowsCount;
  // Per file: window index of each row (-1 outside), and the window before each row.
  const windowOf: Int32Array[] = [];
  const previousWindow: Int32Array[] = [];
  for (const [i, file] of files.entries()) {
    if (include && !include[i]) {
      windowOf.push(new Int32Array(0));
      previousWindow.push(new Int32Array(0));
      continue;
    }
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
  }

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
  // What detections could still add (every window detected at its start); false positives only cost,
  // so once `raw + headroom` cannot beat the best, no lower threshold can: the sweep stops (exactly).
  let headroom = windowsCount * (profile.tp - profile.fn);
  for (let i = 0; i < candidates.length && raw + headroom > best.raw; ) {
    const threshold = candidates[i]!.score;
    for (; i < candidates.length && candidates[i]!.score === threshold; i++) {
      const { file: f, row: k } = candidates[i]!;
      if (include && !include[f]) continue;
      const w = windowOf[f]![k]!;
      if (w === -1) {
        raw += falsePositiveCost(f, k);
        fp++;
        continue;
      }
      const current = earliest[f]![w]!;
      if (current === -1) {
        const gain = credit(files[f]!, w, k) - profile.fn;
        raw += gain;
        headroom -= gain;
        earliest[f]![w] = k;
        tp++;
      } else if (k < current) {
        const gain = credit(files[f]!, w, k) - credit(files[f]!, w, current);
        raw += gain;
        headroom -= gain;
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

/** Raw score and counts of files scored at a given threshold (`nabScoreAt`). */
export interface NabTally {
  readonly raw: number;
  readonly windows: number;
  readonly truePositives: number;
  readonly falsePositives: number;
}

/**
 * The files' raw score with alarms at every post-probation score at or above `threshold` (what
 * `nabScore` does at the threshold it chooses; `Infinity`: no alarm), for scoring held-out files at a
 * threshold chosen elsewhere. Normalise a sum of tallies with `normaliseTally`.
 */
export function nabScoreAt(files: readonly NabFile[], profile: NabProfile, threshold: number): NabTally {
  let raw = 0;
  let windows = 0;
  let tp = 0;
  let fp = 0;
  for (const file of files) {
    const rows = file.scores.length;
    const credit = (l: number, r: number, k: number) =>
      (profile.tp * sigma(-(r - k + 1) / (r - l + 1))) / sigma(-1);
    windows += file.windows.length;
    raw += profile.fn * file.windows.length;
    let previous: readonly [number, number] | null = null;
    let w = 0;
    let detected = false;
    for (let k = 0; k < rows; k++) {
      // Move to the window containing or following row k; a window ending before k becomes "previous".
      while (w < file.windows.length && file.windows[w]![1] < k) {
        previous = file.windows[w]!;
        w++;
        detected = false;
      }
      if (k < probationRows(rows) || !(file.scores[k]! >= threshold)) continue;
      const window = file.windows[w];
      if (window && window[0] <= k) {
        if (!detected) {
          raw += credit(window[0], window[1], k) - profile.fn;
          tp++;
          detected = true;
        }
        continue;
      }
      fp++;
      if (!previous) raw += profile.fp;
      else {
        const y = (k - previous[1]) / Math.max(1, previous[1] - previous[0]);
        raw += y > 3 ? profile.fp : Math.abs(profile.fp) * sigma(y);
      }
    }
  }
  return { raw, windows, truePositives: tp, falsePositives: fp };
}

/** NAB's normalised score (100 perfect, 0 the null detector) of summed tallies. */
export function normaliseTally(tally: NabTally, profile: NabProfile): number {
  const nullScore = profile.fn * tally.windows;
  const perfect = profile.tp * tally.windows;
  return perfect === nullScore ? 0 : (100 * (tally.raw - nullScore)) / (perfect - nullScore);
}
