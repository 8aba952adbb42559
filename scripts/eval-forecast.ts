/**
 * Forecast accuracy on a series: `npm run eval:forecast -- --data FILE --horizon H [--period P]`.
 * FILE is a CSV of `timestamp,value` with a header row (the NAB format). The last H values are held out
 * and forecast from everything before them by the default method, the Holt-Winters baseline and
 * seasonal naive; prints a table and, as its last line, one JSON object with the default method's scores
 * (and the others under `baseline` and `seasonalNaive`). Bad arguments: usage on stderr, exit code 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { evaluateHoldout } from '../src/domain/forecast/evaluate.js';

const USAGE = 'usage: npm run eval:forecast -- --data FILE.csv --horizon H [--period P]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInteger(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) fail(`--${name} must be a positive integer (got "${text}")`);
  return Number(text);
}

/** The values of a `timestamp,value` CSV with a header row, in file order. */
export function readValues(text: string, file: string): number[] {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  const values: number[] = [];
  let header = true;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (header) {
      header = false;
      if (cells.length < 2) throw new Error(`${file}:${i + 1}: expected a header row "timestamp,value"`);
      continue;
    }
    const value = Number(cells[cells.length - 1]!.trim());
    if (cells.length < 2 || cells[cells.length - 1]!.trim() === '' || !Number.isFinite(value))
      throw new Error(`${file}:${i + 1}: "${line}" has no numeric value`);
    values.push(value);
  }
  return values;
}

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs({
    options: { data: { type: 'string' }, horizon: { type: 'string' }, period: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
} catch (error) {
  fail((error as Error).message);
}
const {
  data,
  horizon: horizonText,
  period: periodText,
} = parsed.values as Record<string, string | undefined>;
if (!data) fail('--data is required');
const horizon = positiveInteger(horizonText, 'horizon');
if (horizon === undefined) fail('--horizon is required');
const period = positiveInteger(periodText, 'period');

let values: number[];
try {
  values = readValues(readFileSync(data, 'utf8'), data);
} catch (error) {
  fail((error as Error).message);
}
if (values.length - horizon < 3)
  fail(`${data} holds ${values.length} values: too few for a horizon of ${horizon}`);

const started = performance.now();
const result = evaluateHoldout(values, horizon, period ?? null);
const ms = performance.now() - started;

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const rows = result.methods.map(({ name, forecast, score }) => [
  name,
  forecast.settings.method,
  fmt(score.mase),
  fmt(score.smape, 2),
  fmt(score.coverage80, 2),
  fmt(score.coverage95, 2),
]);
const head = ['method', 'chosen', 'MASE', 'sMAPE%', 'cov80', 'cov95'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
const main = result.methods[0]!;
console.log(
  `${data}: ${values.length} values, horizon ${horizon}, season ${result.period ?? 'none'}; ` +
    `default: ${main.forecast.settings.method} ${JSON.stringify(main.forecast.settings.params)} ` +
    `(cv MASE ${main.forecast.settings.cvError === null ? 'n/a' : fmt(main.forecast.settings.cvError)}), ${ms.toFixed(0)} ms`,
);
console.log(line(head));
for (const r of rows) console.log(line(r));
const num = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(6)) : null);
const json = (s: (typeof result.methods)[number]['score']) => ({
  mase: num(s.mase),
  smape: num(s.smape),
  coverage80: num(s.coverage80),
  coverage95: num(s.coverage95),
});
console.log(
  JSON.stringify({
    ...json(main.score),
    method: main.forecast.settings.method,
    period: result.period,
    baseline: json(result.methods[1]!.score),
    seasonalNaive: json(result.methods[2]!.score),
  }),
);
