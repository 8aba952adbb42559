/**
 * NAB evaluation: runs the production detector ensemble over every `DIR/<category>/<file>.csv`, one
 * series at a time, online (a score uses only the rows up to its own), and writes NAB's results layout:
 * `OUT/<detector>/<category>/<detector>_<file>.csv` with `timestamp,value,anomaly_score`. With
 * `--labels FILE` it also prints the Standard, Reward-Low-FP and Reward-Low-FN scores. With
 * `--ensemble contextOSE` it runs the CAD OSE ensemble (`CONTEXT_OSE_ENSEMBLE`) instead of the default,
 * with `--ensemble noDrift` the default without its drift view (the default before it).
 * Usage: npm run eval:nab -- --data ../shared/data/nab/data --out results [--labels ../shared/data/nab/labels.json]
 *        [--ensemble default|contextOSE|noDrift]
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  CONTEXT_OSE_ENSEMBLE,
  contextOseMembers,
  createEnsemble,
  DEFAULT_ENSEMBLE,
} from '../src/domain/analytics/ensemble.js';
import { NAB_PROFILES, type NabFile, nabScore, rowOf } from '../src/domain/evaluation/nab-score.js';

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
if (!dataDir || !outDir) {
  process.stderr.write(
    'usage: eval-nab --data DIR --out OUT [--labels FILE] [--ensemble default|contextOSE|noDrift]\n',
  );
  process.exit(2);
}

const labels = labelsFile
  ? (JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, [string, string][]>)
  : null;
const scored: NabFile[] = [];
for (const category of readdirSync(dataDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()) {
  for (const file of readdirSync(join(dataDir, category))
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const lines = readFileSync(join(dataDir, category, file), 'utf8')
      .trim()
      .split(/\r?\n/);
    const header = lines.shift()!.split(',');
    const tsAt = header.indexOf('timestamp');
    const valueAt = header.indexOf('value');
    const rows = lines.map((line) => {
      const cells = line.split(',');
      return { timestamp: cells[tsAt]!, value: Number(cells[valueAt]) };
    });
    const ensemble = makeEnsemble();
    const scores = rows.map((row) => ensemble.update(row.value).score);
    const target = join(outDir, DETECTOR, category);
    mkdirSync(target, { recursive: true });
    writeFileSync(
      join(target, `${DETECTOR}_${file}`),
      `timestamp,value,anomaly_score\n${rows.map((r, i) => `${r.timestamp},${r.value},${scores[i]}`).join('\n')}\n`,
    );
    const key = `${category}/${file}`;
    if (labels) {
      const windows = (labels[key] ?? []).map(
        ([start, end]) =>
          [
            rowOf(
              rows.map((r) => r.timestamp),
              start,
            ),
            rowOf(
              rows.map((r) => r.timestamp),
              end,
            ),
          ] as [number, number],
      );
      scored.push({ name: key, scores, windows });
    }
    process.stdout.write(`${key}: ${rows.length} rows\n`);
  }
}
if (labels) {
  process.stdout.write(`\nNAB scores of ${DETECTOR} over ${scored.length} files (${basename(dataDir)}):\n`);
  const results: Record<string, number> = {};
  for (const [name, profile] of Object.entries(NAB_PROFILES)) {
    const r = nabScore(scored, profile);
    results[name] = Math.round(r.normalised * 100) / 100;
    process.stdout.write(
      `  ${name.padEnd(20)} ${r.normalised.toFixed(2).padStart(7)}  (threshold ${r.threshold.toFixed(4)}, TP ${r.truePositives}, FN ${r.falseNegatives}, FP ${r.falsePositives})\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
