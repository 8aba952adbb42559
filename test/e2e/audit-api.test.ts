import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { modelRegistered, tempDir, trainingRequested } from '../support/fixtures.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

interface Event {
  position: string;
  streamId: string;
  category: string;
  revision: string;
  id: string;
  type: string;
  createdAt: string;
  principal: string | null;
  correlationId: string | null;
  causationId: string | null;
  sourcePosition: string | null;
  schemaVersion: number | null;
  metadata: Record<string, unknown>;
  summary: Record<string, unknown> | null;
  data: unknown;
}
interface Page {
  auditEvents: {
    edges: { cursor: string; node: Event }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
}
interface State {
  revision: string | null;
  position: string | null;
  at: string | null;
  value: unknown;
  status: string;
  context: Record<string, unknown>;
}
interface Change {
  op: string;
  path: string[];
  pointer: string;
  before: unknown;
  after: unknown;
}

const EVENT = `position streamId category revision id type createdAt principal correlationId causationId
  sourcePosition schemaVersion metadata summary data`;
const EVENTS = `query ($filter: AuditEventFilter, $first: Int, $after: String, $last: Int, $before: String) {
  auditEvents(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { ${EVENT} } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const STATE = 'revision position at value status context';

/** An OTLP/JSON request: one `cpu{host="a"}` sample a second from `start`, a spike of 99 at index `spikeAt`. */
const otlp = (start: number, from: number, count: number, spikeAt?: number) =>
  JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'cpu',
                gauge: {
                  dataPoints: Array.from({ length: count }, (_, k) => ({
                    asDouble: from + k === spikeAt ? 99 : 40 + Math.sin(from + k) * 2,
                    timeUnixNano: String(BigInt(start + (from + k) * 1000) * 1_000_000n),
                    attributes: [{ key: 'host', value: { stringValue: 'a' } }],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audit and replay through the GraphQL API', () => {
  let service: Service & { url: string };
  let client: Client;
  const T0 = Date.now() - 600_000;

  async function events(filter: Record<string, unknown>, page: Record<string, unknown> = { first: 200 }) {
    const result = await gql<Page>(service.url, EVENTS, { filter, ...page });
    expect(result.errors).toBeUndefined();
    return result.data!.auditEvents;
  }
  const nodes = async (filter: Record<string, unknown>, page?: Record<string, unknown>) =>
    (await events(filter, page)).edges.map((e) => e.node);

  beforeAll(async () => {
    const dir = tempDir('audit-');
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
        },
      ]),
    );
    service = await startService({
      PIPELINES_FILE: pipelines,
      ALERT_RULES_FILE: rules,
      ALERT_TICK_MS: '100',
    });
    client = wsClient(service.url);
    for (const body of [otlp(T0, 0, 100), otlp(T0, 100, 50, 120)]) {
      const response = await fetch(`${service.url}/v1/metrics`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...bearer() },
      });
      expect(response.status).toBe(200);
    }
    for (const agent of service.agents.values()) await agent.flush();
    for (const pipeline of service.pipelines) await pipeline.waitFor();
    await service.alertManager!.waitFor();
  });

  afterAll(async () => {
    await client?.dispose();
    await service?.stop();
  });

  it('reads the events of a stream, a category or the whole log, with every filter, as a connection', async () => {
    const batches = await nodes({ streamId: 'samples-otlp' });
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.every((e) => e.type === 'batchFlushed' && e.category === 'samples')).toBe(true);
    // A batch comes in brief (counts), its columns only when asked for.
    expect(batches.map((b) => b.summary!.samples).reduce((a, b) => Number(a) + Number(b), 0)).toBe(150);
    expect(batches[0]).toMatchObject({
      data: null,
      summary: { kind: 'sampleBatch', series: 1, metrics: ['cpu'] },
    });
    const full = await gql<Page>(
      service.url,
      `query { auditEvents(filter: { streamId: "samples-otlp" }, first: 1) { edges { node { data(full: true) } } } }`,
    );
    expect(full.data!.auditEvents.edges[0]!.node.data).toMatchObject({
      agentId: 'otlp',
      count: batches[0]!.summary!.samples,
    });
    // The whole envelope: who asked, the chain, versions.
    const principal = batches[0]!.principal!;
    expect(batches[0]!.metadata).toMatchObject({ principal, correlationId: batches[0]!.id });

    const pipeline = await nodes({ category: 'pipeline' });
    expect(pipeline.map((e) => e.type)).toEqual(['pipelineDefined', 'pipelineStarted']);
    expect(pipeline[0]!.data).toMatchObject({ definition: { id: 'detect' } });

    // All streams, page by page: the cursor is the log position.
    const head = await events({}, { first: 3 });
    expect(head.pageInfo.hasNextPage).toBe(true);
    const second = await events({}, { first: 3, after: head.pageInfo.endCursor });
    const six = await nodes({}, { first: 6 });
    expect([...head.edges, ...second.edges].map((e) => e.node.position)).toEqual(six.map((e) => e.position));
    expect(head.edges.map((e) => e.cursor)).toEqual(six.slice(0, 3).map((e) => e.position));
    const positions = six.map((e) => BigInt(e.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    // Backwards: the newest, in log order.
    const newest = await events({}, { last: 2 });
    expect(newest.pageInfo.hasPreviousPage).toBe(true);
    const everything = await nodes({});
    expect(newest.edges.map((e) => e.node.position)).toEqual(everything.slice(-2).map((e) => e.position));

    const anomalies = await nodes({ types: ['anomalyDetected'] });
    expect(anomalies.length).toBeGreaterThanOrEqual(1);
    expect(anomalies.every((e) => e.type === 'anomalyDetected' && e.streamId === 'findings-detect')).toBe(
      true,
    );
    expect((await nodes({ principal })).every((e) => e.principal === principal)).toBe(true);
    expect((await nodes({ principal: 'actor:pipeline-detect' })).map((e) => e.category)).toContain(
      'findings',
    );

    // One correlation: the batch and what was decided from it share it.
    const anomaly = anomalies[0]!;
    const correlated = await nodes({ correlationId: anomaly.correlationId });
    expect(correlated.map((e) => e.type)).toEqual(
      expect.arrayContaining(['batchFlushed', 'anomalyDetected']),
    );
    expect(correlated.every((e) => e.correlationId === anomaly.correlationId)).toBe(true);

    // A time range: appended at or after `from`, before `to`.
    const at = Date.parse(anomaly.createdAt);
    const window = await nodes({
      from: new Date(at).toISOString(),
      to: new Date(at + 1).toISOString(),
      category: 'findings',
    });
    expect(window.map((e) => e.id)).toContain(anomaly.id);
    expect(window.every((e) => Date.parse(e.createdAt) === at)).toBe(true);
    expect(await nodes({ to: new Date(T0).toISOString() })).toEqual([]);

    // Right after a write, before the audit index has it: read from the log past its checkpoint.
    const written = await service.events.append('probe-now', [
      { id: crypto.randomUUID(), type: 'probed', data: { n: 1 }, metadata: { principal: 'user:probe' } },
    ]);
    const fresh = await nodes({ streamId: 'probe-now', principal: 'user:probe' });
    expect(fresh.map((e) => e.position)).toEqual([written.position.toString()]);

    const bad = await gql(service.url, EVENTS, {
      filter: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
    });
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'filter.to' } });
    const mixed = await gql(service.url, EVENTS, { filter: { streamId: 'samples-otlp', category: 'model' } });
    expect(mixed.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('folds an actor’s state as of a revision or a time, and diffs two points', async () => {
    const address = { kind: 'model', id: 'latency' };
    await service.host.send(address, modelRegistered, { principal: 'user:ann' });
    await sleep(20);
    const registeredAt = new Date().toISOString();
    await sleep(20);
    await service.host.send(address, trainingRequested, { principal: 'user:ann' });
    await service.host.settled();
    await service.host.send(address, { type: 'modelDeployed', version: 1 }, { principal: 'user:ann' });

    const query = `query ($id: String!, $asOf: ActorPointInput) { actorState(streamId: $id, asOf: $asOf) { ${STATE} } }`;
    const state = async (asOf?: Record<string, unknown>) =>
      (await gql<{ actorState: State }>(service.url, query, { id: 'model-latency', asOf })).data!.actorState;
    expect(await state({ revision: '0' })).toMatchObject({
      revision: '0',
      value: 'registered',
      context: { versions: [], deployedVersion: null, name: 'latency_model' },
    });
    expect(await state({ at: registeredAt })).toMatchObject({ revision: '0', value: 'registered' });
    const now = await state();
    expect(now).toMatchObject({ revision: '3', value: 'deployed', context: { deployedVersion: 1 } });
    expect((now.context.versions as unknown[]).length).toBe(1);
    expect(await state({ at: new Date(T0).toISOString() })).toMatchObject({
      revision: null,
      value: 'unregistered',
    });

    const diff = await gql<{ actorStateDiff: { from: State; to: State; changes: Change[] } }>(
      service.url,
      `query { actorStateDiff(streamId: "model-latency", from: { revision: "0" }, to: { revision: "3" }) {
        from { revision } to { revision } changes { op path pointer before after } } }`,
    );
    const changes = diff.data!.actorStateDiff.changes;
    expect(changes).toEqual(
      expect.arrayContaining([
        { op: 'CHANGED', path: ['value'], pointer: '/value', before: 'registered', after: 'deployed' },
        {
          op: 'CHANGED',
          path: ['context', 'deployedVersion'],
          pointer: '/context/deployedVersion',
          before: null,
          after: 1,
        },
        expect.objectContaining({ op: 'ADDED', path: ['context', 'versions', '0'], before: null }),
      ]),
    );

    // A pipeline: its definition, lifecycle and mode.
    const pipeline = (await gql<{ actorState: State }>(service.url, query, { id: 'pipeline-detect' })).data!
      .actorState;
    expect(pipeline).toMatchObject({
      value: 'running',
      context: { mode: 'realtime', definition: { id: 'detect' } },
    });
    // The alert manager: its alerts.
    const manager = (await gql<{ actorState: State }>(service.url, query, { id: 'alertmanager-main' })).data!
      .actorState;
    expect(Object.values(manager.context.alerts as Record<string, { status: string }>)).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'cpu_anomaly', status: 'firing' })]),
    );

    const notActor = await gql(service.url, query, { id: 'samples-otlp' });
    expect(notActor.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'streamId' } });
    const both = await gql(service.url, query, {
      id: 'model-latency',
      asOf: { revision: '1', at: registeredAt },
    });
    expect(both.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'asOf' } });
    expect((await gql(service.url, query, { id: 'model-nobody' })).data).toEqual({ actorState: null });
  });

  it('follows an alert back to the sample batch it came from, and the batch forward to the alert', async () => {
    const [fired] = await nodes({ streamId: 'alertmanager-main', types: ['alertFired'] });
    expect(fired).toBeDefined();
    const CHAIN = `query ($position: Position, $streamId: String, $eventId: String) {
      causalChain(position: $position, streamId: $streamId, eventId: $eventId) {
        root { type streamId position } truncated unresolvedCause
        links { relation causedBy event { type streamId position id } } } }`;
    type Chain = {
      root: { type: string; streamId: string; position: string };
      truncated: boolean;
      unresolvedCause: string | null;
      links: {
        relation: string;
        causedBy: string | null;
        event: { type: string; streamId: string; position: string; id: string };
      }[];
    };
    const chain = (await gql<{ causalChain: Chain }>(service.url, CHAIN, { position: fired!.position })).data!
      .causalChain;
    expect(chain.root).toMatchObject({ type: 'batchFlushed', streamId: 'samples-otlp' });
    expect(chain.unresolvedCause).toBeNull();
    const links = chain.links.map((l) => [l.relation, l.event.type]);
    // The sample batch → the anomaly → the alert transition → the notification.
    expect(links.slice(0, 3)).toEqual([
      ['CAUSE', 'batchFlushed'],
      ['CAUSE', 'anomalyDetected'],
      ['SUBJECT', 'alertFired'],
    ]);
    expect(links).toContainEqual(['DECIDED_WITH', 'notificationRaised']);
    const [batch, anomaly, subject] = chain.links;
    expect(batch!.causedBy).toBeNull();
    expect(anomaly!.causedBy).toBe(batch!.event.position);
    expect(subject!.causedBy).toBe(anomaly!.event.position);
    const notification = chain.links.find((l) => l.event.type === 'notificationRaised')!;
    expect(notification.causedBy).toBe(anomaly!.event.position);
    const order = chain.links.map((l) => BigInt(l.event.position));
    expect(order.slice(0, 3)).toEqual([...order.slice(0, 3)].sort((a, b) => (a < b ? -1 : 1)));

    // From the batch, by its stream and id: forward to the anomaly and the alert.
    const forward = (
      await gql<{ causalChain: Chain }>(service.url, CHAIN, {
        streamId: batch!.event.streamId,
        eventId: batch!.event.id,
      })
    ).data!.causalChain;
    expect(forward.links[0]).toMatchObject({ relation: 'SUBJECT', event: { type: 'batchFlushed' } });
    const effects = forward.links.filter((l) => l.relation === 'EFFECT').map((l) => l.event.type);
    expect(effects).toEqual(expect.arrayContaining(['anomalyDetected', 'alertFired', 'notificationRaised']));
    expect((await gql(service.url, CHAIN, { position: '999999999' })).data).toEqual({ causalChain: null });
  });

  it('streams events and an actor’s state changes over graphql-ws, resuming with `after`', async () => {
    // From the head now: nothing appended after this can slip past, however late the server subscribes.
    const head = (await events({}, { last: 1 })).edges[0]!.node.position;
    const live = collect<Event>(
      client,
      `subscription ($after: Position) { auditEvents(filter: { category: "model", types: ["modelRegistered", "modelDeployed"] }, after: $after) {
        position streamId type principal } }`,
      { after: head },
    );
    const changes = collect<{ event: { type: string; position: string }; state: State; changes: Change[] }>(
      client,
      `subscription ($after: Position) { actorStateChanged(streamId: "model-stream", after: $after) {
        event { type position } state { revision value context } changes { op path before after } } }`,
      { after: head },
    );
    const address = { kind: 'model', id: 'stream' };
    await service.host.send(address, modelRegistered, { principal: 'user:bea' });
    await service.host.send(address, trainingRequested, { principal: 'user:bea' });
    await service.host.settled();
    await service.host.send(address, { type: 'modelDeployed', version: 1 }, { principal: 'user:bea' });

    await live.until((items) =>
      items.some((e) => e.streamId === 'model-stream' && e.type === 'modelDeployed'),
    );
    expect(live.items.filter((e) => e.streamId === 'model-stream').map((e) => [e.type, e.principal])).toEqual(
      [
        ['modelRegistered', 'user:bea'],
        ['modelDeployed', 'user:bea'],
      ],
    );

    await changes.until((items) => items.length >= 4);
    expect(changes.items.map((c) => [c.event.type, c.state.revision, c.state.value])).toEqual([
      ['modelRegistered', '0', 'registered'],
      ['trainingRequested', '1', 'training'],
      ['trainingSucceeded', '2', 'trained'],
      ['modelDeployed', '3', 'deployed'],
    ]);
    expect(changes.items[0]!.changes).toEqual(
      expect.arrayContaining([
        { op: 'CHANGED', path: ['value'], before: 'unregistered', after: 'registered' },
      ]),
    );
    expect(changes.items[3]!.changes).toEqual([
      { op: 'CHANGED', path: ['value'], before: 'trained', after: 'deployed' },
      { op: 'CHANGED', path: ['context', 'deployedVersion'], before: null, after: 1 },
    ]);

    // Resuming after the first event: the state is folded up to there, the rest delivered once.
    const resumed = collect<{ event: { type: string }; state: State }>(
      client,
      `subscription ($after: Position) { actorStateChanged(streamId: "model-stream", after: $after) { event { type } state { value revision } } }`,
      { after: changes.items[0]!.event.position },
    );
    await resumed.until((items) => items.length >= 3);
    expect(resumed.items.map((c) => [c.event.type, c.state.value])).toEqual([
      ['trainingRequested', 'training'],
      ['trainingSucceeded', 'trained'],
      ['modelDeployed', 'deployed'],
    ]);
    const replayed = collect<Event>(
      client,
      'subscription { auditEvents(filter: { streamId: "model-stream" }, after: "0") { type revision } }',
    );
    await replayed.until((items) => items.length >= 4);
    expect(replayed.items.map((e) => e.revision)).toEqual(['0', '1', '2', '3']);

    // Without `after`: the state now, then what comes. Deploying the same version again changes nothing.
    const now = collect<{ event: { revision: string }; state: State; changes: Change[] }>(
      client,
      'subscription { actorStateChanged(streamId: "model-stream") { event { revision } state { value revision } changes { op } } }',
    );
    for (let attempt = 0; now.items.length === 0; attempt++) {
      expect(attempt).toBeLessThan(50); // the server had long enough to subscribe
      await service.host.send(address, { type: 'modelDeployed', version: 1 }, { principal: 'user:bea' });
      await now.until((items) => items.length > 0, 200).catch(() => undefined);
    }
    const first = now.items[0]!;
    expect(first.state).toMatchObject({ value: 'deployed', revision: first.event.revision });
    expect(first.changes).toEqual([]);

    // The other feeds share the same tail of the log, and still replay from `after`.
    const fired = collect<{ transition: string }>(
      client,
      'subscription { alertChanged(after: "0") { transition } }',
    );
    const notified = collect<{ reason: string }>(
      client,
      'subscription { alertNotified(after: "0") { reason } }',
    );
    const spikes = collect<{ value: number }>(
      client,
      'subscription { anomalyDetected(after: "0") { value } }',
    );
    await fired.until((items) => items.some((t) => t.transition === 'fired'));
    await notified.until((items) => items.some((n) => n.reason === 'fired'));
    await spikes.until((items) => items.some((a) => a.value === 99));

    for (const s of [live, changes, resumed, replayed, now, fired, notified, spikes]) {
      expect(s.errors).toEqual([]);
      s.dispose();
    }
  });
});
