/**
 * NAB corpus reading and leave-one-category-out cross-validation of detector settings. The scoring
 * itself is `nab-score.ts`; this module only chooses, per fold, a setting and its threshold on the
 * training categories and scores the held-out category with them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type NabCandidate,
  type NabFile,
  type NabProfile,
  nabCandidates,
  nabScore,
  nabScoreAt,
  normaliseTally,
  rowOf,
} from './nab-score.js';

export interface NabSeries {
  readonly category: string;
  /** `<category>/<file>.csv`, the key of NAB's labels. */
  readonly key: string;
  readonly timestamps: readonly string[];
  readonly values: readonly number[];
}

/** `DIR/<category>/<file>.csv` paths, sorted by category then file, as `<category>/<file>.csv` keys. */
export function listNabFiles(dataDir: string): string[] {
  const keys: string[] = [];
  for (const category of readdirSync(dataDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort())
    for (const file of readdirSync(join(dataDir, category))
      .filter((f) => f.endsWith('.csv'))
      .sort())
      keys.push(`${category}/${file}`);
  return keys;
}

/**
 * Why a data folder cannot be evaluated (null when it can): missing, not a folder, or holding no
 * `<category>/<file>.csv` at all (scoring nothing would print zeros that look like results).
 */
export function nabDataProblem(dataDir: string): string | null {
  let keys: string[];
  try {
    keys = listNabFiles(dataDir);
  } catch (error) {
    return `cannot read the data folder ${dataDir}: ${(error as Error).message}`;
  }
  return keys.length === 0
    ? `no CSV files in ${dataDir}: expected NAB's layout, DIR/<category>/<file>.csv`
    : null;
}

export function readNabSeries(dataDir: string, key: string): NabSeries {
  const lines = readFileSync(join(dataDir, key), 'utf8').trim().split(/\r?\n/);
  const header = lines.shift()!.split(',');
  const tsAt = header.indexOf('timestamp');
  const valueAt = header.indexOf('value');
  const timestamps: string[] = [];
  const values: number[] = [];
  for (const line of lines) {
    const cells = line.split(',');
    timestamps.push(cells[tsAt]!);
    values.push(Number(cells[valueAt]));
  }
  return { category: key.split('/')[0]!, key, timestamps, values };
}

/** The labelled windows of a series as inclusive row ranges. */
export function nabWindows(
  series: NabSeries,
  labels: Record<string, readonly (readonly [string, string])[]>,
): [number, number][] {
  return (labels[series.key] ?? []).map(([start, end]) => [
    rowOf(series.timestamps, start),
    rowOf(series.timestamps, end),
  ]);
}

export interface FoldResult {
  /** The held-out category. */
  readonly category: string;
  /** Index of the candidate chosen on the other categories, its standard score there, and its threshold. */
  readonly chosen: number;
  readonly trainScore: number;
  readonly threshold: number;
  /** The held-out category's files scored with that candidate at that threshold. */
  readonly heldOut: { raw: number; windows: number; truePositives: number; falsePositives: number };
}

export interface CrossValidation {
  readonly folds: readonly FoldResult[];
  /**
   * NAB's normalised score over all files, from the held-out results: every fold's held-out files
   * scored with its own candidate and threshold, their raw scores summed over all folds, normalised
   * between the null and the perfect detector over all windows (as NAB normalises one run over all files).
   */
  readonly normalised: number;
  readonly truePositives: number;
  readonly falseNegatives: number;
  readonly falsePositives: number;
}

/** Each candidate's rows over all files, sorted as `nabScore` sweeps them. */
export function sortedCandidates(
  files: readonly { readonly name: string; readonly windows: NabFile['windows'] }[],
  scores: readonly (readonly (readonly number[])[])[],
): NabCandidate[][] {
  return scores.map((byFile) => nabCandidates(files.map((f, i) => ({ ...f, scores: byFile[i]! }))));
}

/**
 * Leave-one-category-out: for each category, every candidate is scored NAB's way (its best single
 * threshold) on the files of the other categories; the best (the earlier candidate on ties) is applied
 * at that threshold to the held-out category. `scores[c][f]` is candidate c's scores of file f (each
 * candidate run over each file once; the folds reuse them).
 */
export function crossValidate(
  files: readonly {
    readonly category: string;
    readonly name: string;
    readonly windows: NabFile['windows'];
  }[],
  scores: readonly (readonly (readonly number[])[])[],
  profile: NabProfile,
  /** `nabCandidates` of each candidate's scores over all files, when several profiles reuse them. */
  sorted: readonly (readonly NabCandidate[])[] = sortedCandidates(files, scores),
): CrossValidation {
  const categories = [...new Set(files.map((f) => f.category))].sort();
  const asNab = (c: number, keep: (category: string) => boolean): NabFile[] =>
    files.flatMap((f, i) =>
      keep(f.category) ? [{ name: f.name, windows: f.windows, scores: scores[c]![i]! }] : [],
    );
  // Each candidate's rows are sorted once over all files; a fold ignores its held-out files' rows.
  const folds: FoldResult[] = [];
  for (const category of categories) {
    const training = files.map((f) => f.category !== category);
    let best: { chosen: number; trainScore: number; threshold: number } | null = null;
    for (let c = 0; c < scores.length; c++) {
      const r = nabScore(
        asNab(c, () => true),
        profile,
        sorted[c],
        training,
      );
      if (!best || r.normalised > best.trainScore + 1e-9)
        best = { chosen: c, trainScore: r.normalised, threshold: r.threshold };
    }
    const heldOut = nabScoreAt(
      asNab(best!.chosen, (k) => k === category),
      profile,
      best!.threshold,
    );
    folds.push({ category, ...best!, heldOut });
  }
  const total = folds.reduce(
    (t, f) => ({
      raw: t.raw + f.heldOut.raw,
      windows: t.windows + f.heldOut.windows,
      truePositives: t.truePositives + f.heldOut.truePositives,
      falsePositives: t.falsePositives + f.heldOut.falsePositives,
    }),
    { raw: 0, windows: 0, truePositives: 0, falsePositives: 0 },
  );
  return {
    folds,
    normalised: normaliseTally(total, profile),
    truePositives: total.truePositives,
    falseNegatives: total.windows - total.truePositives,
    falsePositives: total.falsePositives,
  };
}
