import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crossValidate, listNabFiles, nabDataProblem } from '../../../src/domain/evaluation/nab-cv.js';
import {
  NAB_PROFILES,
  type NabFile,
  nabCandidates,
  nabScore,
  nabScoreAt,
  normaliseTally,
} from '../../../src/domain/evaluation/nab-score.js';

const temp = mkdtempSync(join(tmpdir(), 'nab-cv-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Deterministic uniform numbers in [0, 1). */
const rand = (i: number) => {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
};

/** A file of `rows` noisy scores, with windows at the given rows and a detection of `hit` in each. */
function file(name: string, seed: number, rows: number, windows: [number, number][], hit: number): NabFile {
  const scores = Array.from({ length: rows }, (_, i) => 0.5 * rand(seed * 1e4 + i));
  for (const [l, r] of windows) scores[l + Math.floor((r - l) / 3)] = hit;
  return { name, scores, windows };
}

describe('the data folder check', () => {
  it('refuses a folder with no CSV files, or none at all', () => {
    const empty = join(temp, 'empty');
    mkdirSync(join(empty, 'someCategory'), { recursive: true });
    writeFileSync(join(empty, 'someCategory', 'notes.txt'), 'x');
    expect(listNabFiles(empty)).toEqual([]);
    expect(nabDataProblem(empty)).toMatch(/no CSV files/);
    expect(nabDataProblem(join(temp, 'missing'))).toMatch(/cannot read/);
  });

  it('accepts <category>/<file>.csv', () => {
    const data = join(temp, 'data');
    mkdirSync(join(data, 'b'), { recursive: true });
    mkdirSync(join(data, 'a'), { recursive: true });
    writeFileSync(join(data, 'b', 'x.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n');
    writeFileSync(join(data, 'a', 'y.csv'), 'timestamp,value\n2020-01-01 00:00:00,1\n');
    expect(listNabFiles(data)).toEqual(['a/y.csv', 'b/x.csv']);
    expect(nabDataProblem(data)).toBeNull();
  });

  it('eval:nab exits with 2 and says why on an empty data folder', () => {
    const empty = join(temp, 'empty-run');
    mkdirSync(empty, { recursive: true });
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/eval-nab.ts', '--data', empty, '--out', join(temp, 'out')],
      { encoding: 'utf8', cwd: join(import.meta.dirname, '../../..') },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no CSV files/);
    expect(run.stdout).toBe('');
  });
});

describe('NAB scoring at a given threshold', () => {
  const files = [
    file('a', 1, 2000, [[900, 1000]], 0.9),
    file(
      'b',
      2,
      1500,
      [
        [600, 700],
        [1200, 1300],
      ],
      0.7,
    ),
    file('c', 3, 1000, [], 0),
  ];

  it('matches nabScore at the threshold nabScore chooses, for every profile', () => {
    for (const profile of Object.values(NAB_PROFILES)) {
      const best = nabScore(files, profile);
      const at = nabScoreAt(files, profile, best.threshold);
      expect(at.raw).toBeCloseTo(best.raw, 9);
      expect(normaliseTally(at, profile)).toBeCloseTo(best.normalised, 9);
      expect(at.truePositives).toBe(best.truePositives);
      expect(at.falsePositives).toBe(best.falsePositives);
    }
  });

  it('scores only the included files when told to, as if only those were given', () => {
    const profile = NAB_PROFILES.standard;
    const sorted = nabCandidates(files);
    const some = nabScore(files, profile, sorted, [true, false, true]);
    const only = nabScore([files[0]!, files[2]!], profile);
    expect(some).toEqual(only);
  });

  it('never alarming scores the null detector (0)', () => {
    const at = nabScoreAt(files, NAB_PROFILES.standard, Number.POSITIVE_INFINITY);
    expect(normaliseTally(at, NAB_PROFILES.standard)).toBe(0);
    expect(at.truePositives + at.falsePositives).toBe(0);
  });
});

describe('leave-one-category-out cross-validation', () => {
  const windows: [number, number][] = [[1200, 1300]];
  const meta = ['x', 'y', 'z'].flatMap((category) =>
    [0, 1].map((k) => ({ category, name: `${category}/${k}.csv`, windows })),
  );
  // Candidate 0 finds every window; candidate 1 finds none (its detections are below its noise).
  const good = meta.map((m, i) => file(m.name, i, 2000, windows, 0.9).scores);
  const bad = meta.map((m, i) => file(m.name, i, 2000, windows, 0.1).scores);

  it('chooses on the other categories and scores the held-out one with that choice and threshold', () => {
    const cv = crossValidate(meta, [bad, good], NAB_PROFILES.standard);
    expect(cv.folds.map((f) => f.category)).toEqual(['x', 'y', 'z']);
    expect(cv.folds.every((f) => f.chosen === 1)).toBe(true);
    expect(cv.truePositives).toBe(6);
    // The same as scoring every file at once with the good candidate (one threshold fits all here).
    const all = nabScore(
      meta.map((m, i) => ({ ...m, scores: good[i]! })),
      NAB_PROFILES.standard,
    );
    expect(cv.normalised).toBeCloseTo(all.normalised, 9);
  });

  it('a candidate that only works in-sample is found out', () => {
    // Candidate 1 detects only in category x; in every fold but x's it looks no better than the other.
    const lucky = meta.map((m, i) => (m.category === 'x' ? good[i]! : bad[i]!));
    const cv = crossValidate(meta, [bad, lucky], NAB_PROFILES.standard);
    const inSample = nabScore(
      meta.map((m, i) => ({ ...m, scores: lucky[i]! })),
      NAB_PROFILES.standard,
    );
    expect(cv.folds.find((f) => f.category === 'x')?.chosen).toBe(0);
    expect(cv.normalised).toBeLessThan(inSample.normalised);
  });
});
