import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Figures = Record<string, number | string>;

/** Prints a table of the figures, writes them to bench/results/<name>.json, and prints them as JSON last. */
export function report(
  name: string,
  rows: readonly [label: string, value: string][],
  figures: Figures,
): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\n${name}\n${'-'.repeat(width + 20)}\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(join('bench/results', `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`\n${JSON.stringify(figures)}\n`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
