import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeriesRegistry } from '../../../src/collection/series-registry.js';
import { tempDir } from '../../support/fixtures.js';

describe('the series registry', () => {
  it('limits series per metric and in all, keeps what it took across a restart, and frees idle series', () => {
    const path = join(tempDir(), 'series.registry');
    let clock = 0;
    const limits = { maxSeries: 4, maxSeriesPerMetric: 2, idleMs: 60_000 };
    const one = new SeriesRegistry(limits, path, () => clock);
    one.open();
    expect(one.admit('m', '1')).toEqual({ ok: true });
    expect(one.admit('m', '2')).toEqual({ ok: true });
    expect(one.admit('m', '3')).toEqual({
      ok: false,
      reason: "metric 'm' already has 2 series (the per-metric limit)",
    });
    expect(one.admit('m', '1')).toEqual({ ok: true }); // known: always taken
    expect(one.admit('n', '4')).toEqual({ ok: true });
    expect(one.admit('o', '5')).toEqual({ ok: true });
    expect(one.admit('p', '6')).toEqual({
      ok: false,
      reason: 'the service already has 4 series (the global limit)',
    });

    // A restart (a crash: nothing closed) keeps the limits where they were; a torn last line is ignored.
    appendFileSync(path, 'q\t7'.slice(0, 2));
    const two = new SeriesRegistry(limits, path, () => clock);
    two.open();
    expect([two.size, two.seriesOf('m')]).toEqual([4, 2]);
    expect(two.admit('m', '3').ok).toBe(false);
    expect(two.admit('p', '6').ok).toBe(false);

    // Series idle for idleMs stop counting; the file forgets them too.
    clock = 30_000;
    expect(two.admit('m', '1').ok).toBe(true);
    clock = 70_000;
    expect(two.sweep()).toHaveLength(3);
    expect([two.size, two.seriesOf('m')]).toEqual([1, 1]);
    expect(two.admit('m', '3').ok).toBe(true);
    expect(readFileSync(path, 'utf8').trim().split('\n').sort()).toEqual(['m\t1', 'm\t3']);
    const three = new SeriesRegistry(limits, path, () => clock);
    three.open();
    expect(three.size).toBe(2);
  });
});
