import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;

interface Transition {
  rule: string;
  transition: string;
  labels: { name: string; value: string }[];
  evidence: Record<string, number> | null;
}

describe('absence of data after missed intervals', () => {
  let service: Service & { url: string };
  beforeAll(async () => {
    service = await startService({ ALERT_TICK_MS: '200' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('alerts for a series that reported every 500 ms and stopped, never for a sporadic one', async () => {
    const created = await gql(
      service.url,
      `mutation { createAlertRule(input: { id: "hb_absent", match: { name: "hb_*" }, severity: "warning", forMs: 1000,
         condition: { type: absence, missedIntervals: 4 } }) { ... on AlertRule { id } ... on Error { code message } } }`,
    );
    expect(created.data).toEqual({ createAlertRule: { id: 'hb_absent' } });
    const client = wsClient(service.url);
    const alerts = collect<Transition>(
      client,
      'subscription { alertChanged(rule: "hb_absent") { rule transition labels { name value } evidence } }',
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      // A heartbeat every 500 ms and a sporadic series, both sent as they happen for 12 s.
      const start = Date.now();
      const sporadicAt = [0, 300, 2600, 2700, 6900, 7000, 7100, 11_000];
      for (let i = 0; i < 24; i++) {
        const t = start + i * 500;
        const samples = [
          { name: 'hb_regular', labels: [], kind: 'gauge', value: 1, timestamp: new Date(t).toISOString() },
          ...sporadicAt
            .filter((s) => s >= i * 500 && s < (i + 1) * 500)
            .map((s) => ({
              name: 'hb_sporadic',
              labels: [],
              kind: 'gauge',
              value: 1,
              timestamp: new Date(start + s).toISOString(),
            })),
        ];
        expect(await gql(service.url, INGEST, { samples })).toMatchObject({
          data: { ingestMetrics: { accepted: samples.length } },
        });
        await new Promise((r) => setTimeout(r, Math.max(0, t + 500 - Date.now())));
      }
      await settle(service);
      // Both stop. The regular one is absent after four of its intervals (and forMs); the sporadic never.
      const [fired] = await alerts.until((items) => items.some((t) => t.transition === 'fired'), 15_000);
      expect(fired).toMatchObject({ rule: 'hb_absent', transition: 'fired' });
      const firedOn = alerts.items.filter((t) => t.transition === 'fired');
      expect(firedOn).toHaveLength(1);
      expect(firedOn[0]!.evidence).toMatchObject({ missedIntervals: 4 });
      expect(firedOn[0]!.evidence!.intervalMs).toBeGreaterThanOrEqual(400);
      expect(firedOn[0]!.evidence!.intervalMs).toBeLessThanOrEqual(600);
      await new Promise((r) => setTimeout(r, 3000));
      const alertsNow = await gql<{
        alerts: { edges: { node: { rule: string; status: string; seriesId: string } }[] };
      }>(service.url, '{ alerts { edges { node { rule status seriesId } } } }');
      expect(alertsNow.data!.alerts.edges.filter((e) => e.node.rule === 'hb_absent')).toHaveLength(1);
    } finally {
      alerts.dispose();
      await client.dispose();
    }
  }, 60_000);
});
