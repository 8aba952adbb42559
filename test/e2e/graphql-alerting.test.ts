import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { collect, createKey, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

interface Anomaly {
  name: string;
  value: number;
  score: number;
  detector: string;
  position: string;
  labels: { name: string; value: string }[];
  window?: { name: string; count: number; mean: number | null };
}
interface Transition {
  key: string;
  transition: string;
  severity: string;
  by: string | null;
}
interface Notification {
  reason: string;
  severity: string;
  group: { name: string; value: string }[];
  alerts: string[];
}

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted dropped rejected { index field reason } } ... on Error { code message } }
}`;

/** One sample a second for `count` seconds from `start`, a spike of 99 at index `spikeAt`. */
const samples = (start: number, from: number, count: number, spikeAt?: number) =>
  Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      name: 'cpu',
      labels: [{ name: 'host', value: 'a' }],
      kind: 'gauge',
      value: i === spikeAt ? 99 : 40 + Math.sin(i) * 2,
      timestamp: new Date(start + i * 1000).toISOString(),
    };
  });

describe('GraphQL: a planted spike reaches live subscribers as an anomaly, then an alert', () => {
  let service: Service & { url: string };
  let client: Client;
  let ann: { key: string; principal: string };
  const T0 = Date.now() - 600_000;

  beforeAll(async () => {
    const dir = tempDir('gql-');
    const pipelines = join(dir, 'pipelines.json');
    const rules = join(dir, 'rules.json');
    writeFileSync(
      pipelines,
      JSON.stringify([
        {
          id: 'detect',
          route: [{ name: 'cpu' }],
          quality: { allowedLatenessMs: 0, requiredLabels: [] },
          analytics: { minAnomalyScore: 0.5 },
        },
      ]),
    );
    writeFileSync(
      rules,
      JSON.stringify([
        {
          id: 'cpu_anomaly',
          match: { name: 'cpu' },
          condition: { type: 'anomalyScore', min: 0.5 },
          severity: 'warning',
          groupBy: ['host'],
          escalation: { afterMs: 1500, to: 'critical' },
          resolveAfterMs: 3000,
        },
      ]),
    );
    service = await startService({
      PIPELINES_FILE: pipelines,
      ALERT_RULES_FILE: rules,
      ALERT_TICK_MS: '100',
    });
    ann = await createKey(service.url, 'ann', 'operator');
    client = wsClient(service.url, {}, { authorization: `Bearer ${ann.key}` });
  });

  afterAll(async () => {
    await client?.dispose();
    await service?.stop();
  });

  it('delivers the anomaly, the alert, its escalation when unacknowledged, and nothing under a silence', async () => {
    // From the start of the log: nothing can slip past between subscribing and ingesting.
    const anomalies = collect<Anomaly>(
      client,
      `subscription { anomalyDetected(after: "0", minScore: 0.5) { name value score detector position labels { name value } window { name count mean } } }`,
    );
    const transitions = collect<Transition>(
      client,
      `subscription { alertChanged(after: "0") { key transition severity by } }`,
    );
    const notifications = collect<Notification>(
      client,
      `subscription { alertNotified(after: "0") { reason severity group { name value } alerts } }`,
    );

    const baseline = await gql(service.url, INGEST, { samples: samples(T0, 0, 100) });
    expect(baseline).toEqual({ data: { ingestMetrics: { accepted: 100, dropped: 0, rejected: [] } } });
    await gql(service.url, INGEST, { samples: samples(T0, 100, 50, 120) });

    const [anomaly] = await anomalies.until((a) => a.length >= 1);
    expect(anomaly).toMatchObject({ name: 'cpu', value: 99, labels: [{ name: 'host', value: 'a' }] });
    expect(anomaly!.score).toBeGreaterThanOrEqual(0.9);
    expect(anomaly!.window!.count).toBeGreaterThan(0); // which window it departed from, and its statistics
    expect(anomaly!.window!.mean).toBeCloseTo(40, -1);
    await transitions.until((t) => t.some((x) => x.transition === 'fired'));
    await notifications.until((n) => n.length >= 1);
    expect(notifications.items[0]).toMatchObject({
      reason: 'fired',
      severity: 'warning',
      group: [{ name: 'host', value: 'a' }],
    });

    // Nobody acknowledges it within 1.5 s: it escalates to critical and notifies again.
    await transitions.until((t) => t.some((x) => x.transition === 'escalated'));
    await notifications.until((n) => n.length >= 2);
    expect(notifications.items[1]).toMatchObject({ reason: 'escalated', severity: 'critical' });
    const key = transitions.items.find((t) => t.transition === 'fired')!.key;

    // Acknowledged over GraphQL, recorded with who asked.
    const ack = await gql(
      service.url,
      'mutation ($key: String!) { acknowledgeAlert(key: $key) { ... on Alert { key acknowledgedBy } ... on Error { code message } } }',
      { key },
      bearer(ann.key),
    );
    expect(ack).toEqual({ data: { acknowledgeAlert: { key, acknowledgedBy: ann.principal } } });
    await transitions.until((t) => t.some((x) => x.transition === 'acknowledged'));
    expect(transitions.items.find((t) => t.transition === 'acknowledged')).toMatchObject({
      by: ann.principal,
    });

    // No new anomaly for 3 s: the alert resolves.
    await transitions.until((t) => t.some((x) => x.transition === 'resolved'));
    await notifications.until((n) => n.length >= 3);
    expect(notifications.items.map((n) => n.reason)).toEqual(['fired', 'escalated', 'resolved']);

    const silence = await gql(
      service.url,
      `mutation ($input: SilenceInput!) { createSilence(input: $input) { ... on Silence { id createdBy matchers { name value } } ... on Error { code message } } }`,
      {
        input: {
          matchers: [{ name: 'alertname', value: 'cpu_anomaly' }],
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
          comment: 'maintenance',
        },
      },
      bearer(ann.key),
    );
    expect(silence.data).toMatchObject({ createSilence: { createdBy: ann.principal } });

    // A second spike, past the ensemble's damping period, under the silence: the anomaly and the
    // alert are recorded and delivered, the notification is not sent.
    await gql(service.url, INGEST, { samples: samples(T0, 150, 200, 330) });
    await anomalies.until((a) => a.some((x) => x.value === 99 && x.position !== anomaly!.position));
    await transitions.until((t) => t.filter((x) => x.transition === 'fired').length === 2);
    await service.alertManager!.waitFor();
    // In the log: nothing was raised after the silence (a notification is recorded before its alert
    // fired, so by now it would be there)…
    const facts: string[] = [];
    for await (const e of service.events.readStream('alertmanager-main')) facts.push(e.type);
    expect(facts.slice(facts.lastIndexOf('silenceCreated'))).toEqual([
      'silenceCreated',
      'alertPending',
      'alertFired',
    ]);
    // …and the subscriber, which has seen the second firing, has no fourth notification.
    expect(notifications.items).toHaveLength(3);
    expect(anomalies.errors).toEqual([]);
    expect(transitions.errors).toEqual([]);
    for (const s of [anomalies, transitions, notifications]) s.dispose();

    // The same facts are rows, queryable by series, time and severity.
    await settle(service);
    const window = { from: new Date(T0).toISOString(), to: new Date().toISOString() };
    const rows = await gql<{ anomalies: { edges: { node: Anomaly }[] } }>(
      service.url,
      'query ($from: DateTime!, $to: DateTime!) { anomalies(from: $from, to: $to, minScore: 0.5) { edges { node { name value detector window { name count } } } } }',
      window,
    );
    const found = rows.data?.anomalies.edges.map((e) => e.node) ?? [];
    expect(found.map((a) => a.value)).toEqual([99, 99]);
    expect(found[0]?.window).toEqual({
      name: anomaly!.window!.name,
      count: anomaly!.window!.count,
    });
    const critical = await gql<{
      alertTransitions: { edges: { node: { transition: string; by: string | null } }[] };
    }>(
      service.url,
      'query ($from: DateTime!, $to: DateTime!) { alertTransitions(from: $from, to: $to, severity: critical) { edges { node { transition by } } } }',
      { from: window.from, to: new Date(Date.now() + 60_000).toISOString() },
    );
    const nodes = critical.data?.alertTransitions.edges.map((e) => e.node) ?? [];
    // Named as the subscription names them; an acknowledgement names who made it.
    expect(nodes.map((t) => t.transition)).toContain('escalated');
    expect(nodes.find((t) => t.transition === 'acknowledged')?.by).toBe(ann.principal);
    const firing = await gql<{ alerts: { edges: { node: { key: string; status: string } }[] } }>(
      service.url,
      'query { alerts(status: "firing") { edges { node { key status } } } }',
    );
    expect(firing.data?.alerts.edges.map((e) => e.node)).toEqual([{ key, status: 'firing' }]);
  });

  it('serves subscriptions over SSE too', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer() },
      body: JSON.stringify({ query: 'subscription { anomalyDetected(after: "0") { value } }' }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"value"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('{"data":{"anomalyDetected":{"value":99}}}');
  });

  it('answers bad input with the field and the reason, and keeps serving', async () => {
    const page = await gql(
      service.url,
      'query { anomalies(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", first: -1) { edges { node { value } } } }',
    );
    expect(page.errors?.[0]?.message).toContain('first');
    const date = await gql(
      service.url,
      'query { anomalies(from: "yesterday", to: "2026-01-02T00:00:00Z") { edges { node { value } } } }',
    );
    expect(date.errors?.[0]?.message).toContain('DateTime must be an ISO-8601 string');
    const position = await gql(service.url, 'subscription { anomalyDetected(after: "-1") { value } }');
    expect(position.errors?.[0]?.message).toContain('Position must be a decimal string');
    const huge = await gql(
      service.url,
      'subscription { anomalyDetected(after: "99999999999999999999") { value } }',
    );
    expect(huge.errors?.[0]?.message).toContain('Position must be a decimal string');
    const vague = await gql(
      service.url,
      'query { anomalies(from: "1", to: "March 7") { edges { node { value } } } }',
    );
    expect(vague.errors?.[0]?.message).toContain('DateTime must be an ISO-8601 string');

    // Over one WebSocket: a broken subscription gets its error, the others carry on.
    const socket = wsClient(service.url);
    const broken = collect(socket, 'subscription { anomalyDetected( { score } }');
    const working = collect<{ value: number }>(
      socket,
      'subscription { anomalyDetected(after: "0") { value } }',
    );
    await service.events.append('findings-probe', [
      {
        id: crypto.randomUUID(),
        type: 'anomalyDetected',
        data: {
          sourcePosition: '1',
          seriesId: '1',
          name: 'probe',
          labels: {},
          ts: 1,
          value: 7,
          score: 1,
          detector: 'zscore',
          expectedLow: 0,
          expectedHigh: 1,
        },
      },
    ]);
    await working.until((items) => items.some((a) => a.value === 7));
    expect(JSON.stringify(broken.errors)).toContain('Syntax Error');
    broken.dispose();
    working.dispose();
    await socket.dispose();

    // A silence id in force cannot be taken again; once removed, it can.
    const create = `mutation { createSilence(input: { id: "dup", matchers: [{ name: "alertname", value: "y" }], endsAt: "2099-01-01T00:00:00Z" }) { __typename ... on Silence { id } ... on Error { code message } } }`;
    expect(await gql(service.url, create)).toEqual({
      data: { createSilence: { __typename: 'Silence', id: 'dup' } },
    });
    // Typed errors: the conflict is a result the client selects, not an exception.
    const again = await gql(service.url, create);
    expect(again.data?.createSilence).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
    const remove =
      'mutation ($id: String!) { removeSilence(id: $id) { __typename ... on Silence { id } ... on Error { code } } }';
    expect(await gql(service.url, remove, { id: 'dup' })).toEqual({
      data: { removeSilence: { __typename: 'Silence', id: 'dup' } },
    });
    expect(await gql(service.url, remove, { id: 'dup' })).toEqual({
      data: { removeSilence: { __typename: 'NotFoundError', code: 'NOT_FOUND' } },
    });
    expect(await gql(service.url, create)).toEqual({
      data: { createSilence: { __typename: 'Silence', id: 'dup' } },
    });

    // Bounds on one operation: 16 aliases are too many (15). Field suggestions stay on.
    const aliases = `query { ${Array.from({ length: 16 }, (_, i) => `a${i}: alertTransitions(from: "2026-01-01", to: "2026-01-02") { pageInfo { hasNextPage } }`).join(' ')} }`;
    const tooMany = await gql(service.url, aliases);
    expect(tooMany.errors?.[0]?.message).toMatch(/aliases/i);
    expect(await gql(service.url, 'query { silences { edges { node { i } } } }')).toMatchObject({
      errors: [{ message: expect.stringContaining('Did you mean "id"') }],
    });

    // One connection may hold 100 operations at once; the 101st is refused, the others go on.
    const busy = wsClient(service.url);
    const many = Array.from({ length: 101 }, () =>
      collect<{ value: number }>(
        busy,
        'subscription { anomalyDetected(after: "0", pipelineId: "probe") { value } }',
      ),
    );
    await Promise.all(many.slice(0, 100).map((m) => m.until((items) => items.length >= 1)));
    expect(JSON.stringify(many[100]!.errors)).toContain('at most 100 operations at once');
    expect(many.slice(0, 100).every((m) => m.errors.length === 0)).toBe(true);
    for (const m of many) m.dispose();
    await busy.dispose();

    // A browser cannot set headers on a WebSocket: its credentials come in the connection parameters.
    const web = await createKey(service.url, 'web', 'operator');
    const browser = wsClient(service.url, {}, { authorization: `Bearer ${web.key}` });
    const created = collect<{ createdBy: string }>(
      browser,
      `mutation { createSilence(input: { matchers: [{ name: "alertname", value: "x" }], endsAt: "2099-01-01T00:00:00Z" }) { ... on Silence { createdBy } } }`,
    );
    expect(await created.until((items) => items.length === 1)).toEqual([{ createdBy: web.principal }]);
    created.dispose();
    await browser.dispose();
    const sample = await gql<{ ingestMetrics: { accepted: number; rejected: unknown[] } }>(
      service.url,
      INGEST,
      {
        samples: [
          { name: 'ok_metric', kind: 'gauge', value: 1 },
          { name: 'bad name!', kind: 'gauge', value: 1 },
        ],
      },
    );
    expect(sample.data?.ingestMetrics.accepted).toBe(1);
    expect(sample.data?.ingestMetrics.rejected).toMatchObject([{ index: 1, field: 'name' }]);
    // An id makes a retry a no-op answered the same.
    const KEYED = `mutation ($samples: [SampleInput!]!, $id: String) {
      ingestMetrics(samples: $samples, id: $id) { ... on IngestResult { accepted duplicate rejected { index field reason } } ... on Error { code message } } }`;
    const keyed = { id: 'gql-req-1', samples: [{ name: 'keyed_metric', kind: 'gauge', value: 7 }] };
    const once = await gql<{ ingestMetrics: { accepted: number; duplicate: boolean } }>(
      service.url,
      KEYED,
      keyed,
    );
    const twice = await gql<{ ingestMetrics: { accepted: number; duplicate: boolean } }>(
      service.url,
      KEYED,
      keyed,
    );
    expect([once.data?.ingestMetrics, twice.data?.ingestMetrics]).toEqual([
      { accepted: 1, duplicate: false, rejected: [] },
      { accepted: 1, duplicate: true, rejected: [] },
    ]);
    let keyedEvents = 0;
    for await (const event of service.events.readStream('samples-otlp'))
      if (
        (event.metadata.idempotency as { key?: string } | undefined)?.key ===
        'graphql:apikey:bootstrap:gql-req-1'
      )
        keyedEvents++;
    expect(keyedEvents).toBe(1);
    const badId = await gql(service.url, KEYED, { ...keyed, id: '' });
    expect(JSON.stringify(badId)).toContain('must be 1-200 printable ASCII characters');
    const none = await gql(
      service.url,
      'query { patterns(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", pattern: "x") { edges { node { pattern } } } }',
    );
    expect(none).toEqual({ data: { patterns: { edges: [] } } });
    const unknownKey = await gql(
      service.url,
      'mutation { acknowledgeAlert(key: "nope|1") { __typename ... on Error { code message } } }',
    );
    expect(unknownKey).toEqual({
      data: {
        acknowledgeAlert: { __typename: 'NotFoundError', code: 'NOT_FOUND', message: 'no alert nope|1' },
      },
    });
    const health = await fetch(`${service.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe('GraphQL subscriptions under a burst', () => {
  let service: Service & { url: string };
  afterAll(async () => {
    await service?.stop();
  });

  it('delivers 5,000 findings appended at once to a WebSocket and an SSE subscriber, in order, and keeps serving', async () => {
    service = await startService();
    const client = wsClient(service.url);
    const received = collect<{ value: number }>(
      client,
      'subscription { anomalyDetected(after: "0") { value } }',
    );
    const burst = Array.from({ length: 5000 }, (_, i) => ({
      id: crypto.randomUUID(),
      type: 'anomalyDetected',
      data: {
        sourcePosition: '1',
        seriesId: '1',
        name: 'cpu',
        labels: {},
        ts: i,
        value: i,
        score: 1,
        detector: 'zscore',
        expectedLow: 0,
        expectedHigh: 1,
      },
    }));
    // More than an in-memory pub/sub would queue for one subscriber (1,024), in one append.
    await service.events.append('findings-burst', burst);
    const sse = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer() },
      body: JSON.stringify({ query: 'subscription { anomalyDetected(after: "0") { value } }' }),
    });
    const reader = sse.body!.getReader();
    let text = '';
    while (!text.includes('"value":4999}')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text.match(/"value":\d+/g)).toHaveLength(5000);
    await received.until((items) => items.length === 5000, 30_000);
    expect(received.items.map((a) => a.value)).toEqual(burst.map((_, i) => i));
    received.dispose();
    await client.dispose();
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
