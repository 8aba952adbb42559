import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesId } from '../../src/domain/metrics/identity.js';
import { bearer } from '../support/auth.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const STEP = 1000;
const PERIOD = 12;
const HISTORY = 48;
const HORIZON = 12;
/** A whole second two minutes ago: the history is 48 seconds from there, the horizon the 12 after. */
const BASE = Math.floor((Date.now() - 120_000) / STEP) * STEP;
const seasonal = (i: number) => 50 + 10 * Math.sin((2 * Math.PI * i) / PERIOD) + ((i * 7) % 5) * 0.1;
const history = Array.from({ length: HISTORY }, (_, i) => seasonal(i));
/** What happened: the season, shifted up by 1.5 from the third point on. */
const actual = Array.from({ length: HORIZON }, (_, k) => seasonal(HISTORY + k) + (k >= 2 ? 1.5 : 0));

const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

async function ingest(url: string, from: number, values: readonly number[]): Promise<void> {
  const body = {
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'e2e_seasonal',
                gauge: {
                  dataPoints: values.map((v, i) => ({
                    asDouble: v,
                    timeUnixNano: nanos(from + i * STEP),
                    attributes: [{ key: 'host', value: { stringValue: 'a' } }],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer() },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

interface Point {
  ts: string;
  mean: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}
interface Made {
  forecastId: string;
  seriesId: string;
  madeAt: string;
  scale: number | null;
  points: Point[];
  position: string;
}
interface Scored {
  forecastId: string;
  scoredPoints: number;
  mae: number;
  mase: number | null;
  coverage80: number;
  coverage95: number;
  points: {
    ts: string;
    actual: number | null;
    error: number | null;
    ape: number | null;
    inside80: boolean | null;
  }[];
}

describe('forecasts as facts: rules, scheduled forecasts, scores against what happened', () => {
  let service: Service & { url: string };
  const id = seriesId('e2e_seasonal', { host: 'a' });

  beforeAll(async () => {
    service = await startService({ FORECAST_TICK_MS: '200', FORECAST_SCORE_DELAY_MS: '3000' });
    await ingest(service.url, BASE, history);
    await settle(service);
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
  });

  it('forecasts on request without recording anything', async () => {
    const res = await gql<{ forecast: { seriesId: string; historyPoints: number; points: Point[] }[] }>(
      service.url,
      `query ($s: SeriesSelector!) { forecast(selector: $s, stepMs: 1000, horizon: 12, history: 600000, period: 12) {
        seriesId historyPoints points { ts mean lower80 upper80 lower95 upper95 } } }`,
      { s: { name: 'e2e_seasonal' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.forecast).toHaveLength(1);
    const [f] = res.data!.forecast;
    expect(f!.seriesId).toBe(id);
    expect(f!.historyPoints).toBe(HISTORY);
    expect(f!.points.map((p) => Date.parse(p.ts))).toEqual(
      Array.from({ length: HORIZON }, (_, k) => BASE + (HISTORY + k) * STEP),
    );
    for (const p of f!.points) expect(p.lower95).toBeLessThanOrEqual(p.upper95);
  }, 30_000);

  it('records a rule, forecasts with it, and scores the forecast once the actual values arrive', async () => {
    const client = wsClient(service.url);
    const made = collect<Made>(
      client,
      `subscription { forecastMade(ruleId: "seasonal", after: "0") {
        forecastId seriesId madeAt scale position points { ts mean lower80 upper80 lower95 upper95 } } }`,
    );
    const scored = collect<Scored>(
      client,
      `subscription { forecastScored(ruleId: "seasonal", after: "0") {
        forecastId scoredPoints mae mase coverage80 coverage95 points { ts actual error ape inside80 } } }`,
    );
    try {
      const created = await gql<{ createForecastRule: { id?: string; status?: string; code?: string } }>(
        service.url,
        `mutation ($input: ForecastRuleInput!) { createForecastRule(input: $input) {
          ... on ForecastRule { id status stepMs horizon createdBy } ... on Error { code message } } }`,
        {
          input: {
            id: 'seasonal',
            selector: { name: 'e2e_seasonal', matchers: [{ label: 'host', op: 'EQ', value: 'a' }] },
            stepMs: STEP,
            horizon: HORIZON,
            every: 600_000,
            history: 600_000,
            period: PERIOD,
          },
        },
      );
      expect(created.errors).toBeUndefined();
      expect(created.data!.createForecastRule).toMatchObject({ id: 'seasonal', status: 'active' });

      const [forecast] = await made.until((items) => items.length >= 1, 30_000);
      expect(forecast!.seriesId).toBe(id);
      expect(forecast!.points.map((p) => Date.parse(p.ts))).toEqual(
        Array.from({ length: HORIZON }, (_, k) => BASE + (HISTORY + k) * STEP),
      );

      // What happened, for every point of the horizon.
      await ingest(service.url, BASE + HISTORY * STEP, actual);
      await settle(service);

      const [score] = await scored.until((items) => items.length >= 1, 30_000);
      // By hand, from the forecast's own points and the values sent.
      const errors = forecast!.points.map((p, k) => actual[k]! - p.mean);
      const mae = errors.reduce((a, e) => a + Math.abs(e), 0) / HORIZON;
      const inside80 = forecast!.points.map((p, k) => actual[k]! >= p.lower80 && actual[k]! <= p.upper80);
      const inside95 = forecast!.points.map((p, k) => actual[k]! >= p.lower95 && actual[k]! <= p.upper95);
      expect(score!.forecastId).toBe(forecast!.forecastId);
      expect(score!.scoredPoints).toBe(HORIZON);
      expect(score!.mae).toBeCloseTo(mae, 9);
      expect(score!.coverage80).toBeCloseTo(inside80.filter(Boolean).length / HORIZON, 9);
      expect(score!.coverage95).toBeCloseTo(inside95.filter(Boolean).length / HORIZON, 9);
      if (forecast!.scale !== null) expect(score!.mase).toBeCloseTo(mae / forecast!.scale, 9);
      score!.points.forEach((p, k) => {
        expect(p.actual).toBeCloseTo(actual[k]!, 9);
        expect(p.error).toBeCloseTo(errors[k]!, 9);
        expect(p.ape).toBeCloseTo(Math.abs(errors[k]!) / Math.abs(actual[k]!), 9);
        expect(p.inside80).toBe(inside80[k]);
      });

      // The same numbers in the forecast_errors table.
      await settle(service);
      const stored = await gql<{
        forecastErrors: {
          edges: {
            node: { forecastId: string; ts: string; actual: number; error: number; inside95: boolean };
          }[];
        };
      }>(
        service.url,
        `query ($from: DateTime!, $to: DateTime!, $id: String) {
          forecastErrors(from: $from, to: $to, seriesId: $id, ruleId: "seasonal") {
            edges { node { forecastId ts actual error inside95 } } } }`,
        { from: new Date(BASE).toISOString(), to: new Date(BASE + 600_000).toISOString(), id },
      );
      expect(stored.errors).toBeUndefined();
      const rows = stored.data!.forecastErrors.edges.map((e) => e.node);
      expect(rows).toHaveLength(HORIZON);
      rows.forEach((row, k) => {
        expect(row.forecastId).toBe(forecast!.forecastId);
        expect(Date.parse(row.ts)).toBe(BASE + (HISTORY + k) * STEP);
        expect(row.actual).toBeCloseTo(actual[k]!, 9);
        expect(row.error).toBeCloseTo(errors[k]!, 9);
        expect(row.inside95).toBe(inside95[k]);
      });
      const points = await gql<{ forecasts: { edges: { node: { mean: number } }[] } }>(
        service.url,
        `query ($from: DateTime!, $to: DateTime!) {
          forecasts(from: $from, to: $to, selector: { name: "e2e_seasonal" }) { edges { node { mean } } } }`,
        { from: new Date(BASE).toISOString(), to: new Date(BASE + 600_000).toISOString() },
      );
      expect(points.data!.forecasts.edges.map((e) => e.node.mean)).toEqual(
        forecast!.points.map((p) => p.mean),
      );

      // Scored once, and the rule as its facts leave it.
      const removed = await gql<{ deleteForecastRule: { status: string } }>(
        service.url,
        `mutation { deleteForecastRule(id: "seasonal") { ... on ForecastRule { status } ... on Error { code } } }`,
      );
      expect(removed.data!.deleteForecastRule.status).toBe('deleted');
      const listed = await gql<{
        forecastRules: { edges: { node: { id: string; status: string; version: number } }[] };
      }>(service.url, '{ forecastRules(includeDeleted: true) { edges { node { id status version } } } }');
      expect(listed.data!.forecastRules.edges.map((e) => e.node)).toEqual([
        { id: 'seasonal', status: 'deleted', version: 2 },
      ]);
      await service.forecaster.tick();
      expect(scored.items.filter((s) => s.forecastId === forecast!.forecastId)).toHaveLength(1);
    } finally {
      made.dispose();
      scored.dispose();
      await client.dispose();
    }
  }, 90_000);
});
