import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToExit, startTsChild } from '../../../support/child-process.js';

const script = join(import.meta.dirname, '../../../../scripts/eval-forecast.ts');
const dir = mkdtempSync(join(tmpdir(), 'eval-forecast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run eval:forecast', () => {
  it('prints a table and, last, the default method scores as one JSON object', async () => {
    const file = join(dir, 'series.csv');
    const start = Date.parse('2024-01-01T00:00:00Z');
    const rows = Array.from({ length: 24 * 20 }, (_, t) => {
      const value = 50 + 10 * Math.sin((2 * Math.PI * t) / 24) + ((t * 7919) % 13) / 13;
      return `${new Date(start + t * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')},${value}`;
    });
    writeFileSync(file, `timestamp,value\n${rows.join('\n')}\n`);
    const { code, out } = await runToExit(
      startTsChild(script, ['--data', file, '--horizon', '24', '--period', '24']),
    );
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(out).toContain('seasonalNaive');
    const result = JSON.parse(lines.at(-1)!);
    for (const key of ['mase', 'smape', 'coverage80', 'coverage95'])
      expect(typeof result[key]).toBe('number');
    expect(result.mase).toBeLessThan(1);
    expect(result.baseline).toBeTypeOf('object');
  }, 30_000);

  it('exits with code 2 and usage on bad arguments', async () => {
    for (const args of [
      [],
      ['--horizon', '24'],
      ['--data', join(dir, 'none.csv'), '--horizon', 'x'],
      ['--bogus'],
    ]) {
      const { code, err } = await runToExit(startTsChild(script, args));
      expect(code).toBe(2);
      expect(err).toContain('usage:');
    }
  }, 30_000);
});
