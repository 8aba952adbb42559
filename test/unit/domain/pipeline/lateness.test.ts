import { describe, expect, it } from 'vitest';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';
import {
  PipelineDefinition,
  type PipelineDefinitionInput,
} from '../../../../src/domain/pipeline/definition.js';
import { PipelineEngine, type TickResult } from '../../../../src/domain/pipeline/engine.js';

const define = (input: Partial<PipelineDefinitionInput>) =>
  PipelineDefinition.parse({ id: 'p1', route: [{ name: '*' }], ...input });
const fast = defineSeries({ name: 'rps', labels: {}, kind: 'gauge' });
const slow = defineSeries({ name: 'disk_free', labels: {}, kind: 'gauge' });

/**
 * A fast series (every 100 ms) and a slow one (every 2 s, each sample arriving 3 s after its time,
 * as a slow exporter's would) in one pipeline whose allowed lateness is 1 s; the slow series' last
 * sample is a spike. Ticks after every 10 fast samples, as the runtime ticks after each batch.
 */
function run(definition: PipelineDefinition): { ticks: TickResult[]; slowSent: number } {
  const engine = new PipelineEngine(definition);
  const ticks: TickResult[] = [];
  let slowSent = 0;
  for (let i = 0; i <= 6000; i++) {
    const t = i * 100;
    engine.accept(fast, t, 100 + Math.sin(i / 9));
    // The slow sample of time t − 3 s arrives now.
    const due = t - 3000;
    if (due >= 0 && due % 2000 === 0) {
      const j = due / 2000;
      engine.accept(slow, due, j === 298 ? 1000 : 50 + Math.sin(j));
      slowSent++;
    }
    if (i % 10 === 9) ticks.push(engine.tick());
  }
  ticks.push(engine.tick());
  return { ticks, slowSent };
}

describe('lateness judged per series', () => {
  it('analyses every sample of a slow series interleaved with a fast one (none is late behind the fast one)', () => {
    const { ticks, slowSent } = run(define({ quality: { allowedLatenessMs: 1000 }, analytics: {} }));
    expect(slowSent).toBe(299);
    expect(ticks.reduce((n, t) => n + t.findings.late, 0)).toBe(0);
    expect(ticks.flatMap((t) => t.late)).toEqual([]);
    const spike = ticks.flatMap((t) => t.anomalies).find((a) => a.def.id === slow.id && a.value === 1000);
    expect(spike).toBeDefined();
    // The window before the spike held every earlier slow sample: all 298 were analysed.
    expect(spike!.windows.find((w) => w.name === 'medium')!.count).toBe(298);
  });

  it('still routes out a sample more than its own series allows behind its own newest', () => {
    const engine = new PipelineEngine(define({ quality: { allowedLatenessMs: 1000 } }));
    engine.accept(slow, 10_000, 1);
    engine.accept(slow, 20_000, 2);
    engine.accept(slow, 18_500, 3); // 1.5 s behind its own newest: late
    engine.accept(slow, 19_500, 4); // 0.5 s behind: reordered into place
    const result = engine.tick();
    expect(result.findings).toMatchObject({ late: 1, outOfOrder: 1 });
    expect(result.late.map((s) => [s.ts, s.value])).toEqual([[18_500, 3]]);
  });

  it('allows another lateness for the series a matcher names', () => {
    const engine = new PipelineEngine(
      define({
        quality: {
          allowedLatenessMs: 1000,
          latenessBySeries: [{ match: { name: 'disk_*' }, allowedLatenessMs: 60_000 }],
        },
      }),
    );
    engine.accept(slow, 100_000, 1);
    engine.accept(slow, 50_000, 2); // 50 s behind: within disk_*'s minute
    engine.accept(fast, 100_000, 1);
    engine.accept(fast, 50_000, 2); // late for rps
    const result = engine.tick();
    expect(result.findings.late).toBe(1);
    expect(result.late.map((s) => s.def.name)).toEqual(['rps']);
    // The pipeline's clock moves on (rps) but disk_* waits out its own minute: a sample 30 s out of
    // order still finds its place.
    engine.accept(fast, 140_000, 3);
    expect(engine.tick().findings.late).toBe(0);
    engine.accept(slow, 70_000, 4);
    const later = engine.tick();
    expect(later.findings).toMatchObject({ late: 0, outOfOrder: 1 });
  });

  it('keeps windows exact: a sample released behind a closed window is analysed, routed out as late, and counted', () => {
    const definition = define({
      quality: { allowedLatenessMs: 1000 },
      stages: [
        { type: 'aggregate', window: { type: 'tumbling', sizeMs: 10_000 }, functions: ['count'], by: [] },
      ],
    });
    const { ticks } = run(definition);
    const counts = ticks
      .flatMap((t) => t.derived)
      .filter((s) => s.def.name === 'disk_free:count_10s')
      .map((s) => s.ts);
    // Each 10 s window of the slow series is emitted at most once.
    expect(new Set(counts).size).toBe(counts.length);
    const lateSlow = ticks.flatMap((t) => t.late).filter((s) => s.def.id === slow.id);
    const findings = ticks.reduce((n, t) => n + t.findings.late, 0);
    expect(findings).toBe(
      lateSlow.length + ticks.flatMap((t) => t.late).filter((s) => s.def.id !== slow.id).length,
    );
    expect(lateSlow.length).toBeGreaterThan(0);
  });
});
