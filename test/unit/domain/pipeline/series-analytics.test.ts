import { describe, expect, it } from 'vitest';
import { createTemplateBank } from '../../../../src/domain/analytics/patterns.js';
import { createTrendBank } from '../../../../src/domain/analytics/trend.js';
import { defineSeries } from '../../../../src/domain/metrics/identity.js';
import { PipelineDefinition } from '../../../../src/domain/pipeline/definition.js';
import { type EngineSnapshot, PipelineEngine } from '../../../../src/domain/pipeline/engine.js';
import { createTemplateWatcher, createTrendTracker } from '../../../support/one-series.js';

const shapes = [
  { name: 'square', shape: [0, 0, 10, 10, 0, 0, 10, 10], maxDistance: 0.3 },
  { name: 'ramp', shape: [0, 1, 2, 3, 4], maxDistance: 0.3 },
];
/** Three series interleaved: a ramp-y sine, a square wave, noise; deterministic. */
const sampleAt = (slot: number, i: number) =>
  slot === 0
    ? 10 * Math.sin(i / 7) + i / 10
    : slot === 1
      ? Math.floor(i / 2) % 2 === 0
        ? 0
        : 10
      : Math.sin(i * 12.9898 + 78.233) * 43758.5453 - Math.floor(Math.sin(i * 12.9898 + 78.233) * 43758.5453);

describe('analytics banks over dense slots', () => {
  it('give each slot exactly what a tracker of its own gives, and continue from a snapshot', () => {
    const options = { window: 20, every: 4, alpha: 0.05 };
    const bank = createTrendBank(options);
    const shapesBank = createTemplateBank(shapes);
    const own = [0, 1, 2].map(() => ({
      trend: createTrendTracker(options),
      shapes: createTemplateWatcher(shapes),
    }));
    const fromBank: string[] = [];
    const fromOwn: string[] = [];
    let restoredBank = bank;
    let restoredShapes = shapesBank;
    for (let i = 0; i < 300; i++) {
      if (i === 150) {
        // A snapshot through JSON, mid-stream.
        restoredBank = createTrendBank(options);
        restoredBank.restore(JSON.parse(JSON.stringify(bank.snapshot())));
        restoredShapes = createTemplateBank(shapes);
        restoredShapes.restore(JSON.parse(JSON.stringify(shapesBank.snapshot())));
      }
      for (const slot of [2, 0, 1]) {
        const v = sampleAt(slot, i);
        const t = restoredBank.update(slot, i * 1000, v);
        if (t) fromBank.push(`${slot}@${i} trend ${t.direction}/${t.strength} ${t.slope} ${t.pValue}`);
        const m = restoredShapes.update(slot, v);
        for (let k = 0; k < m; k++)
          fromBank.push(
            `${slot}@${i} ${shapes[restoredShapes.matchedTemplate[k]!]!.name} ${restoredShapes.matchedDistance[k]}`,
          );
        const o = own[slot]!;
        const u = o.trend.update(i * 1000, v);
        if (u) fromOwn.push(`${slot}@${i} trend ${u.direction}/${u.strength} ${u.slope} ${u.pValue}`);
        for (const match of o.shapes.update(v))
          fromOwn.push(`${slot}@${i} ${match.pattern} ${match.distance}`);
      }
    }
    expect(fromBank).toEqual(fromOwn);
    expect(fromBank.filter((f) => f.startsWith('1@') && f.includes('square')).length).toBe(37);
    expect(fromBank.some((f) => f.includes('trend rising'))).toBe(true);
  });
});

describe('the engine analysis path', () => {
  const definition = PipelineDefinition.parse({
    id: 'a1',
    route: [{ name: '*' }],
    quality: { allowedLatenessMs: 0, requiredLabels: [] },
    analytics: { minAnomalyScore: 0.9, trends: { window: 30, every: 10, alpha: 0.01 }, patterns: shapes },
  });
  const defs = [0, 1, 2].map((i) => defineSeries({ name: 'm', labels: { s: String(i) }, kind: 'gauge' }));
  const spiked = (slot: number, i: number) => (slot === 2 && i === 250 ? 1000 : sampleAt(slot, i));

  it('finds through analyseBatch, fed columns, what accept and tick find', () => {
    const viaTick = new PipelineEngine(definition);
    const viaBatch = new PipelineEngine(definition);
    const slots = Int32Array.from(defs, (d) => viaBatch.slotOf(d));
    const found = (engine: PipelineEngine) => {
      const out = engine.tick();
      return [
        ...out.anomalies.map((a) => `${a.def.labels.s}@${a.ts} anomaly ${a.value} ${a.detector}`),
        ...out.trends.map((t) => `${t.def.labels.s}@${t.ts} ${t.direction}/${t.strength}`),
        ...out.patterns.map((p) => `${p.def.labels.s}@${p.ts} ${p.pattern}`),
      ];
    };
    const a: string[] = [];
    const b: string[] = [];
    for (let i = 0; i < 400; i++) {
      for (const [slot, def] of defs.entries()) viaTick.accept(def, i * 1000, spiked(slot, i));
      a.push(...found(viaTick));
      viaBatch.analyseBatch(
        slots,
        Float64Array.from(defs, () => i * 1000),
        Float64Array.from(defs, (_, slot) => spiked(slot, i)),
      );
      b.push(...found(viaBatch));
    }
    expect(b.sort()).toEqual(a.sort());
    expect(a.filter((f) => f.includes('anomaly'))).toEqual(['2@250000 anomaly 1000 zscore']);
  });

  it('snapshots compactly and continues exactly', () => {
    const whole = new PipelineEngine(definition);
    const first = new PipelineEngine(definition);
    const run = (engine: PipelineEngine, from: number, to: number) => {
      const out: string[] = [];
      for (let i = from; i < to; i++) {
        for (const [slot, def] of defs.entries()) engine.accept(def, i * 1000, spiked(slot, i));
        const r = engine.tick();
        out.push(
          ...r.anomalies.map((x) => `${x.def.id}@${x.ts} ${x.score}`),
          ...r.trends.map((x) => `${x.def.id}@${x.ts} ${x.slope} ${x.pValue} ${x.momentum}`),
          ...r.patterns.map((x) => `${x.def.id}@${x.ts} ${x.distance}`),
        );
      }
      return out;
    };
    const expected = run(whole, 0, 400);
    const before = run(first, 0, 180);
    const json = JSON.stringify(first.snapshot());
    const second = new PipelineEngine(definition, JSON.parse(json) as EngineSnapshot);
    expect([...before, ...run(second, 180, 400)]).toEqual(expected);
    // Three series, 180 samples each; leaving out the ensembles (their own format), the windows' recent
    // values (kept once: 180) and times (180) dominate, at about 10.7 characters a number in base64.
    const saved = JSON.parse(json) as EngineSnapshot;
    const withoutEnsembles = JSON.stringify({ ...saved, analytics: { ...saved.analytics, ensembles: [] } });
    expect(withoutEnsembles.length).toBeLessThan(3 * 360 * 11 + 6000);
  });
});

describe('analytics on a series with one absurd glitch', () => {
  it('report the glitch, stay finite, and return to quiet (no anomaly per sample for good)', () => {
    const def = PipelineDefinition.parse({
      id: 'glitch',
      route: [{ name: '*' }],
      quality: { allowedLatenessMs: 0, requiredLabels: [] },
      analytics: {},
    });
    const series = defineSeries({ name: 'temperature', labels: {}, kind: 'gauge' });
    let engine = new PipelineEngine(def);
    const anomalies: { i: number; value: number; finite: boolean }[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i === 2000)
        engine = new PipelineEngine(def, JSON.parse(JSON.stringify(engine.snapshot())) as EngineSnapshot);
      engine.accept(series, i * 1000, i === 700 ? 1e200 : 10 + Math.sin(i / 4));
      for (const a of engine.tick().anomalies)
        anomalies.push({
          i: a.ts / 1000,
          value: a.value,
          finite: [a.expectedLow, a.expectedHigh, ...a.windows.flatMap((w) => [w.mean, w.std])].every(
            Number.isFinite,
          ),
        });
    }
    expect(anomalies.find((a) => a.i === 700)).toMatchObject({ value: 1e200, finite: true });
    expect(anomalies.filter((a) => a.i > 700).length).toBeLessThan(20);
    expect(anomalies.every((a) => a.finite)).toBe(true);
  });
});
