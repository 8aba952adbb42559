import { describe, expect, it } from 'vitest';
import { naiveScale, scoreDueAt, scoreForecast } from '../../../src/domain/forecasting/forecasts.js';
import {
  evolveForecastRules,
  type ForecastRulesEvent,
  initialForecastRules,
} from '../../../src/domain/forecasting/rules.js';
import { historyValues } from '../../../src/forecasting/compute.js';

const point = (ts: number, mean: number, w80 = 1, w95 = 2) => ({
  ts,
  mean,
  lower80: mean - w80,
  upper80: mean + w80,
  lower95: mean - w95,
  upper95: mean + w95,
});

describe('forecast scoring', () => {
  it('scores each point with an actual and leaves the others out', () => {
    const made = { points: [point(0, 10), point(1000, 20), point(2000, 30), point(3000, 0)], scale: 2 };
    const s = scoreForecast(
      made,
      new Map([
        [0, 11.5],
        [1000, 20],
        [3000, -1],
      ]),
    );
    expect(s.points.map((p) => p.error)).toEqual([1.5, 0, null, -1]);
    expect(s.points.map((p) => p.inside80)).toEqual([false, true, null, true]);
    expect(s.points.map((p) => p.inside95)).toEqual([true, true, null, true]);
    expect(s.points[0]!.ape).toBeCloseTo(1.5 / 11.5, 12);
    expect(s.scoredPoints).toBe(3);
    expect(s.mae).toBeCloseTo((1.5 + 0 + 1) / 3, 12);
    expect(s.mase).toBeCloseTo(2.5 / 3 / 2, 12);
    expect(s.mape).toBeCloseTo((1.5 / 11.5 + 0 + 1) / 3, 12);
    expect(s.coverage80).toBeCloseTo(2 / 3, 12);
    expect(s.coverage95).toBe(1);
  });

  it('has no error measures when nothing arrived, and no MASE without a scale', () => {
    const s = scoreForecast({ points: [point(0, 1)], scale: null }, new Map());
    expect(s).toMatchObject({ scoredPoints: 0, mae: null, mase: null, mape: null, coverage80: null });
    expect(scoreForecast({ points: [point(0, 1)], scale: null }, new Map([[0, 3]])).mase).toBeNull();
  });

  it("takes MASE's scale from the seasonal naive forecast of the history", () => {
    expect(naiveScale([1, 2, 3, 1, 2, 5], 3)).toBeCloseTo(2 / 3, 12);
    expect(naiveScale([1, 3, 2], null)).toBeCloseTo(1.5, 12);
    expect(naiveScale([4, 4, 4], null)).toBeNull();
  });

  it('is due a delay after its last bucket ends, or after it was made if later', () => {
    const made = { points: [point(0, 1), point(1000, 1)], stepMs: 1000, madeAt: 500 };
    expect(scoreDueAt(made, 3000)).toBe(5000);
    expect(scoreDueAt({ ...made, madeAt: 9000 }, 3000)).toBe(12_000);
  });

  it('reads a history with gaps as the value before each gap', () => {
    expect(
      historyValues(
        [
          { ts: 0, avg: 1 },
          { ts: 3000, avg: 4 },
        ],
        1000,
      ),
    ).toEqual([1, 1, 1, 4]);
  });
});

describe('forecast rule facts', () => {
  const stamp = { by: 'apikey:a', at: 1000, origin: 'api' as const };
  const rule = {
    id: 'r',
    selector: { name: 'cpu' },
    stepMs: 1000,
    horizon: 5,
    every: 60_000,
    history: 600_000,
  };

  it('fold into the rules in force, deleted ones kept with their last definition', () => {
    const events: ForecastRulesEvent[] = [
      { type: 'forecastRuleDefined', rule, ...stamp },
      {
        type: 'forecastRuleUpdated',
        rule: { ...rule, horizon: 10 },
        changes: [{ path: 'horizon', before: 5, after: 10 }],
        ...stamp,
        at: 2000,
      },
      { type: 'forecastRulePaused', id: 'r', ...stamp, at: 3000 },
      { type: 'forecastRuleResumed', id: 'r', ...stamp, at: 4000 },
    ];
    const state = events.reduce(evolveForecastRules, initialForecastRules('main'));
    expect(state.rules.r).toMatchObject({ status: 'active', version: 4, createdAt: 1000, updatedAt: 4000 });
    expect(state.rules.r!.definition.horizon).toBe(10);
    const deleted = evolveForecastRules(state, { type: 'forecastRuleDeleted', id: 'r', ...stamp, at: 5000 });
    expect(deleted.rules.r).toMatchObject({ status: 'deleted', version: 5 });
    expect(deleted.rules.r!.definition.horizon).toBe(10);
  });
});
