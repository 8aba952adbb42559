import { readFileSync } from 'node:fs';
import type { TrainingData } from './algorithm.js';

/**
 * A small reader for the training and test files of `npm run eval:ml` and the scikit-learn fixtures:
 * a header row, numeric feature columns, and a last column named `target`. Anything else (a missing
 * header, a row of another width, a cell that is not a decimal number) is a `CsvError` naming the file,
 * the line and the column. Cells are separated by commas; a header cell may be wrapped in double quotes;
 * blank lines are skipped; CRLF line ends and a UTF-8 byte-order mark are accepted.
 */

export interface CsvTrainingData extends TrainingData {
  readonly featureNames: readonly string[];
  /** The 1-based line of each row in the file, for error messages that point back at it. */
  readonly lines: readonly number[];
}

export interface CsvOptions {
  /** Classification: every target must be an integer class label. */
  readonly integerTarget?: boolean;
}

export class CsvError extends Error {
  constructor(
    readonly file: string,
    /** 1-based. */
    readonly line: number,
    /** 1-based; absent when the whole line is wrong. */
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}:${line}${column === undefined ? '' : `, column ${column}`}: ${reason}`);
    this.name = 'CsvError';
  }
}

/** A plain decimal number: no hex, no `Infinity`, no empty cell (all of which `Number()` would accept). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function unquote(cell: string): string {
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1).replaceAll('""', '"')
    : trimmed;
}

/** Parses the text of a training CSV; `file` names it in errors. */
export function parseTrainingCsv(text: string, file: string, options: CsvOptions = {}): CsvTrainingData {
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  let at = 0;
  while (at < lines.length && lines[at]!.trim() === '') at++;
  if (at === lines.length)
    throw new CsvError(file, 1, undefined, 'the file is empty (expected a header row)');

  const headerLine = at + 1;
  const header = lines[at]!.split(',').map(unquote);
  const width = header.length;
  header.forEach((name, i) => {
    if (name === '') throw new CsvError(file, headerLine, i + 1, 'empty column name in the header row');
    if (DECIMAL.test(name))
      throw new CsvError(
        file,
        headerLine,
        i + 1,
        `"${name}" looks like a number: the first line must be a header row of column names`,
      );
    const first = header.indexOf(name);
    if (first !== i)
      throw new CsvError(file, headerLine, i + 1, `column name "${name}" repeats column ${first + 1}`);
  });
  if (header[width - 1] !== 'target')
    throw new CsvError(
      file,
      headerLine,
      width,
      `the last column must be named "target" (found "${header[width - 1]}")`,
    );
  if (width < 2) throw new CsvError(file, headerLine, undefined, 'no feature columns before "target"');

  const features: number[][] = [];
  const target: number[] = [];
  const rowLines: number[] = [];
  for (let i = at + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    const cells = line.split(',');
    if (cells.length !== width)
      throw new CsvError(
        file,
        lineNo,
        undefined,
        `${cells.length} cells where the header has ${width} columns`,
      );
    const row = new Array<number>(width - 1);
    for (let c = 0; c < width; c++) {
      const cell = cells[c]!.trim();
      if (!DECIMAL.test(cell))
        throw new CsvError(
          file,
          lineNo,
          c + 1,
          `${cell === '' ? 'empty cell' : `"${cell}" is not a number`} (column "${header[c]}")`,
        );
      const value = Number(cell);
      if (!Number.isFinite(value))
        throw new CsvError(file, lineNo, c + 1, `"${cell}" is out of range (column "${header[c]}")`);
      if (c < width - 1) row[c] = value;
      else {
        if (options.integerTarget && !Number.isInteger(value))
          throw new CsvError(
            file,
            lineNo,
            c + 1,
            `"${cell}" is not an integer class label (column "target", task classification)`,
          );
        target.push(value);
      }
    }
    features.push(row);
    rowLines.push(lineNo);
  }
  if (features.length === 0) throw new CsvError(file, headerLine, undefined, 'a header row but no data rows');
  return { features, target, featureNames: header.slice(0, -1), lines: rowLines };
}

/** Reads and parses a training CSV from disk (an unreadable file throws the usual `ENOENT`…). */
export function readTrainingCsv(path: string, options: CsvOptions = {}): CsvTrainingData {
  return parseTrainingCsv(readFileSync(path, 'utf8'), path, options);
}
