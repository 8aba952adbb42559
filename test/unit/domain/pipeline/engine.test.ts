import { describe, expect, it } from 'vitest';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../../src/domain/metrics/kinds.js';
import {
  PipelineDefinition,
  type PipelineDefinitionInput,
} from '../../../../src/domain/pipeline/definition.js';
import { type EngineSnapshot, PipelineEngine, type Sample } from '../../../../src/domain/pipeline/engine.js';

const define = (input: Partial<PipelineDefinitionInput>) =>
  PipelineDefinition.parse({ id: 'p1', route: [{ name: '*' }], ...input });
const cpu = (host: string) => defineSeries({ name: 'cpu', labels: { host }, kind: 'gauge', unit: '%' });
const reqs = (host: string) => defineSeries({ name: 'requests_total', labels: { host }, kind: 'counter' });
const errs = (host: string) => defineSeries({ name: 'errors_total', labels: { host }, kind: 'counter' });

/** Feeds [def, ts, value] triples as one source batch and ticks. */
function feed(engine: PipelineEngine, samples: [SeriesDef, number, number][]) {
  for (const [def, ts, value] of samples) if (engine.routes(def)) engine.accept(def, ts, value);
  return engine.tick();
}
const plain = (samples: Sample[]) => samples.map((s) => [s.def.name, s.def.labels, s.ts, s.value]);

describe('pipeline definitions', () => {
  it('name the bad field', () => {
    expect(() => define({ id: 'Bad Id' })).toThrow(/must be lower-case/);
    expect(() =>
      define({
        stages: [
          {
            type: 'aggregate',
            window: { type: 'sliding', sizeMs: 60_000, slideMs: 7000 },
            functions: ['avg'],
          },
        ],
      }),
    ).toThrow(/slideMs that divides sizeMs/);
    expect(() => define({ route: [{ name: '/[unclosed/' }] })).toThrow(/valid \/regular expression\//);
  });
});

describe('pipeline engine: quality', () => {
  it('reorders within the allowed lateness, routes late samples out, and counts duplicates and gaps', () => {
    const engine = new PipelineEngine(
      define({ quality: { allowedLatenessMs: 1000, expectedIntervalMs: 1000, requiredLabels: [] } }),
    );
    const h = cpu('a');
    let out = feed(engine, [
      [h, 1000, 1],
      [h, 3000, 3],
      [h, 2000, 2], // out of order, within lateness
      [h, 3000, 3], // duplicate
    ]);
    expect(plain(out.derived).map(([, , ts]) => ts)).toEqual([1000, 2000]); // watermark 2000
    expect(out.findings).toMatchObject({ samplesIn: 4, outOfOrder: 1, duplicates: 1, late: 0 });
    out = feed(engine, [
      [h, 1500, 9], // older than what the series released: late
      [h, 9000, 9],
    ]);
    expect(out.late.map((s) => s.ts)).toEqual([1500]);
    expect(out.findings).toMatchObject({ late: 1, gaps: [] });
    expect(plain(out.derived).map(([, , ts]) => ts)).toEqual([3000]); // watermark 8000: 9000 still waits
    out = feed(engine, [[h, 12_000, 12]]);
    // 9000 is released now: 6 s after 3000, more than twice the expected interval.
    expect(out.findings.gaps).toEqual([[h.id, 3000, 9000]]);
    expect(out.derived[0]!.def.labels).toEqual({ host: 'a', pipeline: 'p1' });
  });

  it('finds gaps when a series resumes after silence, and fails the schema check', () => {
    const engine = new PipelineEngine(
      define({
        quality: {
          allowedLatenessMs: 0,
          expectedIntervalMs: 1000,
          requiredLabels: ['host'],
          min: 0,
          max: 100,
        },
      }),
    );
    const h = cpu('a');
    const noHost = defineSeries({ name: 'cpu', labels: {}, kind: 'gauge' });
    const out = feed(engine, [
      [h, 1000, 1],
      [h, 2000, 2],
      [h, 9000, 3],
      [h, 10_000, 500],
      [noHost, 10_000, 1],
    ]);
    expect(out.findings).toMatchObject({ schemaViolations: 2, gaps: [[h.id, 2000, 9000]] });
    expect(out.derived.map((s) => s.value)).toEqual([1, 2, 3]);
  });
});

describe('pipeline engine: stages', () => {
  it('filters, scales, turns counters into rates across a reset, and enriches from a lookup', () => {
    const engine = new PipelineEngine(
      define({
        quality: { allowedLatenessMs: 0, requiredLabels: [] },
        stages: [
          { type: 'filter', match: { labels: { host: 'skip*' } }, drop: true },
          { type: 'transform', counterToRate: true },
          {
            type: 'enrich',
            labels: { team: 'core' },
            lookup: { label: 'host', values: { a: { dc: 'eu' } } },
          },
        ],
      }),
    );
    const out = feed(engine, [
      [reqs('a'), 0, 100],
      [reqs('skipme'), 0, 1],
      [reqs('a'), 10_000, 150],
      [reqs('a'), 20_000, 30], // reset: 30 new requests
    ]);
    expect(plain(out.derived)).toEqual([
      ['requests_total:rate', { dc: 'eu', host: 'a', pipeline: 'p1', team: 'core' }, 10_000, 5],
      ['requests_total:rate', { dc: 'eu', host: 'a', pipeline: 'p1', team: 'core' }, 20_000, 3],
    ]);
  });

  it('aggregates tumbling windows by label, closing each when the watermark passes its end', () => {
    const engine = new PipelineEngine(
      define({
        quality: { allowedLatenessMs: 0, requiredLabels: [] },
        stages: [
          {
            type: 'aggregate',
            window: { type: 'tumbling', sizeMs: 10_000 },
            functions: ['count', 'avg', 'min', 'max', 'p50'],
            by: [],
          },
        ],
      }),
    );
    let out = feed(engine, [
      [cpu('a'), 1000, 10],
      [cpu('b'), 2000, 20],
      [cpu('a'), 9000, 30],
    ]);
    expect(out.derived).toEqual([]);
    out = feed(engine, [[cpu('a'), 10_000, 99]]);
    const byName = Object.fromEntries(out.derived.map((s) => [s.def.name, [s.ts, s.value]]));
    expect(byName).toMatchObject({
      'cpu:count_10s': [0, 3],
      'cpu:avg_10s': [0, 20],
      'cpu:min_10s': [0, 10],
      'cpu:max_10s': [0, 30],
    });
    expect(Math.abs(byName['cpu:p50_10s']![1]! - 20)).toBeLessThan(0.5);
    expect(out.derived[0]!.def.labels).toEqual({ pipeline: 'p1' });
  });

  it('puts each sample in every sliding window that covers it', () => {
    const engine = new PipelineEngine(
      define({
        quality: { allowedLatenessMs: 0, requiredLabels: [] },
        stages: [
          {
            type: 'aggregate',
            window: { type: 'sliding', sizeMs: 20_000, slideMs: 10_000 },
            functions: ['sum'],
            by: ['host'],
          },
        ],
      }),
    );
    const first = feed(engine, [
      [cpu('a'), 5000, 1],
      [cpu('a'), 15_000, 2],
      [cpu('a'), 25_000, 4],
    ]);
    const out = { derived: [...first.derived, ...feed(engine, [[cpu('a'), 60_000, 0]]).derived] };
    expect(out.derived.filter((s) => s.ts < 60_000).map((s) => [s.ts, s.value])).toEqual([
      [-10_000, 1],
      [0, 3],
      [10_000, 6],
      [20_000, 4],
    ]);
    expect(out.derived[0]!.def.name).toBe('cpu:sum_20s_every_10s');
  });

  it('joins two streams on a window: error ratio per host', () => {
    const engine = new PipelineEngine(
      define({
        quality: { allowedLatenessMs: 0, requiredLabels: [] },
        stages: [
          {
            type: 'join',
            left: { name: 'errors_total' },
            right: { name: 'requests_total' },
            windowMs: 10_000,
            op: 'ratio',
            as: 'error_ratio',
            on: ['host'],
          },
        ],
      }),
    );
    feed(engine, [
      [errs('a'), 1000, 2],
      [reqs('a'), 2000, 100],
      [errs('a'), 3000, 4],
      [reqs('b'), 3000, 50],
    ]);
    const out = feed(engine, [[reqs('a'), 12_000, 1]]);
    expect(plain(out.derived)).toEqual([['error_ratio', { host: 'a', pipeline: 'p1' }, 0, 0.03]]);
  });

  it('keeps late samples and quality counts gathered before a snapshot taken between ticks', () => {
    const engine = new PipelineEngine(define({ quality: { allowedLatenessMs: 0, requiredLabels: [] } }));
    feed(engine, [[cpu('a'), 5000, 1]]);
    engine.accept(cpu('a'), 1000, 9); // late, not yet ticked
    const restored = new PipelineEngine(engine.definition, JSON.parse(JSON.stringify(engine.snapshot())));
    const out = restored.tick();
    expect(out.late.map((s) => s.ts)).toEqual([1000]);
    expect(out.findings.late).toBe(1);
  });

  it('continues from a snapshot exactly as if it had never stopped', () => {
    const definition = define({
      quality: { allowedLatenessMs: 2000, requiredLabels: [] },
      stages: [
        { type: 'transform', counterToRate: true },
        {
          type: 'aggregate',
          window: { type: 'tumbling', sizeMs: 5000 },
          functions: ['avg', 'p90'],
          by: ['host'],
        },
      ],
    });
    const batches: [SeriesDef, number, number][][] = Array.from({ length: 20 }, (_, b) =>
      Array.from(
        { length: 10 },
        (_, i) =>
          [reqs(i % 2 ? 'a' : 'b'), b * 1000 + i * 97 - (i === 3 ? 1500 : 0), b * 50 + i * (i % 3)] as [
            SeriesDef,
            number,
            number,
          ],
      ),
    );
    const whole = new PipelineEngine(definition);
    const expected = batches.flatMap((batch) => plain(feed(whole, batch).derived));
    const first = new PipelineEngine(definition);
    const outputs = batches.slice(0, 9).flatMap((batch) => plain(feed(first, batch).derived));
    const saved = JSON.parse(JSON.stringify(first.snapshot())) as EngineSnapshot;
    const second = new PipelineEngine(definition, saved);
    outputs.push(...batches.slice(9).flatMap((batch) => plain(feed(second, batch).derived)));
    const diff = outputs
      .map((o, i) => [JSON.stringify(o), JSON.stringify(expected[i])])
      .filter(([a, b]) => a !== b);
    expect(diff).toEqual([]);
    expect(outputs).toEqual(expected);
    expect(expected.length).toBeGreaterThan(10);
  });
});
