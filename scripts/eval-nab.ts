/**
 * NAB evaluation: runs the production detector ensemble over every `DIR/<category>/<file>.csv`, one
 * series at a time, online (a score uses only the rows up to its own), and writes NAB's results layout:
 * `OUT/<detector>/<category>/<detector>_<file>.csv` with `timestamp,value,anomaly_score`. With
 * `--labels FILE` it also prints the Standard, Reward-Low-FP and Reward-Low-FN scores. With
 * `--ensemble contextOSE` it runs the CAD OSE ensemble (`CONTEXT_OSE_ENSEMBLE`) instead of the default,
 * with `--ensemble noDrift` the default without its drift view.
 *
 * With `--labels` and `--cv` it also cross-validates the ensemble's settings, leaving one category
 * out: each candidate of a small grid (members, excursion calm, drift, calibration; see `candidates()`)
 * runs once over every file; for each category the candidate with the best standard score on the
 * other categories (at its NAB threshold there) scores the held-out category at that threshold; the
 * held-out raw scores of all folds are summed and normalised over all files as NAB normalises one run
 * (`crossValidate`). Printed beside the in-sample score of the default, with the per-fold choices and
 * a final JSON line. The members are run once per file and replayed into every setting (their outputs do
 * not depend on the settings), so the whole run takes seconds.
 * Usage: npm run eval:nab -- --data ../shared/data/nab/data --out results [--labels ../shared/data/nab/labels.json]
 *        [--ensemble default|contextOSE|noDrift] [--cv]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_CALIBRATION } from '../src/domain/analytics/calibration.js';
import { type Detection, type Detector, FULL_SCALE_SIGMAS } from '../src/domain/analytics/detector.js';
import { DEFAULT_DRIFT } from '../src/domain/analytics/drift.js';
import {
  CONTEXT_OSE_ENSEMBLE,
  contextOseMembers,
  createEnsemble,
  DEFAULT_ENSEMBLE,
  defaultMembers,
  type EnsembleConfig,
} from '../src/domain/analytics/ensemble.js';
import {
  crossValidate,
  listNabFiles,
  nabDataProblem,
  nabWindows,
  readNabSeries,
  sortedCandidates,
} from '../src/domain/evaluation/nab-cv.js';
import { NAB_PROFILES, type NabFile, nabScore } from '../src/domain/evaluation/nab-score.js';

const started = performance.now();
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const choice = arg('ensemble') ?? 'default';
if (choice !== 'default' && choice !== 'contextOSE' && choice !== 'noDrift') {
  process.stderr.write('--ensemble must be default, contextOSE or noDrift\n');
  process.exit(2);
}
const DETECTOR = { default: 'allUseEnsemble', contextOSE: 'allUseContextOSE', noDrift: 'allUseNoDrift' }[
  choice
];
const makeEnsemble = () =>
  choice === 'default'
    ? createEnsemble()
    : choice === 'noDrift'
      ? createEnsemble({ ...DEFAULT_ENSEMBLE, drift: undefined })
      : createEnsemble(CONTEXT_OSE_ENSEMBLE, contextOseMembers());
const dataDir = arg('data');
const outDir = arg('out');
const labelsFile = arg('labels');
const cv = process.argv.includes('--cv');
if (!dataDir || !outDir) {
  process.stderr.write(
    'usage: eval-nab --data DIR --out OUT [--labels FILE] [--ensemble default|contextOSE|noDrift] [--cv]\n',
  );
  process.exit(2);
}
const problem = nabDataProblem(dataDir);
if (problem) {
  process.stderr.write(`eval-nab: ${problem}\n`);
  process.exit(2);
}
if (cv && !labelsFile) {
  process.stderr.write('eval-nab: --cv needs --labels\n');
  process.exit(2);
}

const labels = labelsFile
  ? (JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, [string, string][]>)
  : null;
const series = listNabFiles(dataDir).map((key) => readNabSeries(dataDir, key));
const scored: NabFile[] = [];
for (const s of series) {
  const ensemble = makeEnsemble();
  const scores = s.values.map((value) => ensemble.update(value).score);
  const target = join(outDir, DETECTOR, s.category);
  mkdirSync(target, { recursive: true });
  writeFileSync(
    join(target, `${DETECTOR}_${basename(s.key)}`),
    `timestamp,value,anomaly_score\n${s.values.map((v, i) => `${s.timestamps[i]},${v},${scores[i]}`).join('\n')}\n`,
  );
  if (labels) scored.push({ name: s.key, scores, windows: nabWindows(s, labels) });
  process.stdout.write(`${s.key}: ${s.values.length} rows\n`);
}
const round = (x: number) => Math.round(x * 100) / 100;
const inSample: Record<string, number> = {};
if (labels) {
  process.stdout.write(`\nNAB scores of ${DETECTOR} over ${scored.length} files (${basename(dataDir)}):\n`);
  for (const [name, profile] of Object.entries(NAB_PROFILES)) {
    const r = nabScore(scored, profile);
    inSample[name] = round(r.normalised);
    process.stdout.write(
      `  ${name.padEnd(20)} ${r.normalised.toFixed(2).padStart(7)}  (threshold ${r.threshold.toFixed(4)}, TP ${r.truePositives}, FN ${r.falseNegatives}, FP ${r.falsePositives})\n`,
    );
  }
  if (!cv) process.stdout.write(`${JSON.stringify(inSample)}\n`);
}

// ---- Cross-validation -------------------------------------------------------------------------

interface Candidate {
  readonly name: string;
  readonly members: readonly ('transition' | 'level')[];
  readonly config: EnsembleConfig;
}

/**
 * The grid: which members (both, or either alone: members earn their place), the excursion rule's
 * calm (off, 250, 500, 1000 samples), the drift view (on, off) and the calibration (off, or at
 * the 0.99 or 0.995 quantile): 3 × 4 × 2 × 3 = 72 settings. The default's setting
 * comes first, so that it wins ties.
 */
function candidates(): Candidate[] {
  const memberSets: Candidate['members'][] = [['transition', 'level'], ['transition'], ['level']];
  const calms = [500, 250, 1000, 0];
  const calibrations = [{ quantile: 0.995 }, undefined, { quantile: 0.99 }];
  const out: Candidate[] = [];
  for (const members of memberSets)
    for (const calm of calms)
      for (const drift of [true, false])
        for (const cal of calibrations) {
          const config: EnsembleConfig = {
            ...DEFAULT_ENSEMBLE,
            excursions: calm ? { sigmas: FULL_SCALE_SIGMAS, calmSamples: calm } : undefined,
            drift: drift ? DEFAULT_DRIFT : undefined,
            calibration: cal ? { ...DEFAULT_CALIBRATION, ...cal } : undefined,
          };
          const name = [
            members.join('+'),
            calm ? `calm ${calm}` : 'no excursions',
            drift ? 'drift' : 'no drift',
            cal ? `calibration q${cal.quantile}` : 'no calibration',
          ].join(', ');
          out.push({ name, members, config });
        }
  return out;
}

/** A member that replays recorded detections (the members' outputs do not depend on the settings). */
function replay(name: string, recorded: readonly (Detection | null)[]): Detector {
  let i = 0;
  return {
    name,
    update: () => recorded[i++] ?? null,
    snapshot: () => i,
    restore: (state) => {
      i = state as number;
    },
  };
}

if (labels && cv) {
  const grid = candidates();
  // The members' detections, once per file.
  const recorded = series.map((s) => {
    const [transition, level] = defaultMembers();
    const out = { transition: [] as (Detection | null)[], level: [] as (Detection | null)[] };
    for (const v of s.values) {
      out.transition.push(transition!.update(v));
      out.level.push(level!.update(v));
    }
    return out;
  });
  const scores = grid.map((c) =>
    series.map((s, f) => {
      const ensemble = createEnsemble(
        c.config,
        c.members.map((m) => replay(m, recorded[f]![m])),
      );
      return s.values.map((v) => ensemble.update(v).score);
    }),
  );
  const files = series.map((s, f) => ({ category: s.category, name: s.key, windows: scored[f]!.windows }));
  const sorted = sortedCandidates(files, scores);
  const defaultIndex = grid.findIndex(
    (c) => sameConfig(c.config, DEFAULT_ENSEMBLE) && c.members.length === 2,
  );
  const results: Record<string, number> = {};
  let mostChosen: { index: number; name: string; folds: number } | null = null;
  process.stdout.write(`\nLeave-one-category-out cross-validation over ${grid.length} settings:\n`);
  for (const [profileName, profile] of Object.entries(NAB_PROFILES)) {
    const r = crossValidate(files, scores, profile, sorted);
    results[profileName] = round(r.normalised);
    process.stdout.write(
      `  ${profileName.padEnd(20)} in-sample ${inSample[profileName]!.toFixed(2).padStart(6)}  cross-validated ${r.normalised.toFixed(2).padStart(6)}  (TP ${r.truePositives}, FN ${r.falseNegatives}, FP ${r.falsePositives})\n`,
    );
    if (profileName !== 'standard') continue;
    const times = new Map<number, number>();
    for (const fold of r.folds) times.set(fold.chosen, (times.get(fold.chosen) ?? 0) + 1);
    const [most, count] = [...times].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    mostChosen = { index: most, name: grid[most]!.name, folds: count };
    for (const fold of r.folds)
      process.stdout.write(
        `    held out ${fold.category.padEnd(22)} chosen [${fold.chosen}] ${grid[fold.chosen]!.name} (train ${fold.trainScore.toFixed(2)}, threshold ${fold.threshold.toFixed(4)}; held-out TP ${fold.heldOut.truePositives}/${fold.heldOut.windows}, FP ${fold.heldOut.falsePositives})\n`,
      );
  }
  // In-sample ranking of the grid (standard), for reference.
  const ranked = grid
    .map((_, i) => ({
      i,
      score: nabScore(
        files.map((f, k) => ({ ...f, scores: scores[i]![k]! })),
        NAB_PROFILES.standard,
        sorted[i],
      ).normalised,
    }))
    .sort((a, b) => b.score - a.score);
  // Each setting alone, cross-validated over its threshold only (chosen per fold on the other six).
  const alone = grid
    .map((_, i) => ({
      i,
      score: crossValidate(files, [scores[i]!], NAB_PROFILES.standard, [sorted[i]!]).normalised,
    }))
    .sort((a, b) => b.score - a.score);
  process.stdout.write('  best settings cross-validated alone (standard, threshold chosen per fold):\n');
  for (const { i, score } of alone.slice(0, 12))
    process.stdout.write(`    [${i}] ${score.toFixed(2)}  ${grid[i]!.name}\n`);
  if (mostChosen)
    process.stdout.write(
      `  chosen most often: [${mostChosen.index}] ${mostChosen.name} (${mostChosen.folds} of ${categoriesCount(files)} folds)\n`,
    );
  process.stdout.write(
    `  default setting: [${defaultIndex}] ${grid[defaultIndex]?.name ?? '(not in the grid)'}\n`,
  );
  process.stdout.write('  best settings in-sample (standard):\n');
  for (const { i, score } of ranked.slice(0, 8))
    process.stdout.write(`    [${i}] ${score.toFixed(2)}  ${grid[i]!.name}\n`);
  process.stdout.write(`  ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(
    `${JSON.stringify({
      inSampleStandard: inSample.standard,
      crossValidatedStandard: results.standard,
      inSampleLowFP: inSample.reward_low_FP_rate,
      crossValidatedLowFP: results.reward_low_FP_rate,
      inSampleLowFN: inSample.reward_low_FN_rate,
      crossValidatedLowFN: results.reward_low_FN_rate,
      defaultCrossValidatedAlone: round(alone.find((a) => a.i === defaultIndex)?.score ?? Number.NaN),
      mostChosen: mostChosen?.name,
    })}\n`,
  );
}

function categoriesCount(files: readonly { category: string }[]): number {
  return new Set(files.map((f) => f.category)).size;
}

function sameConfig(a: EnsembleConfig, b: EnsembleConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
