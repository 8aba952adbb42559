import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const MODEL = 'id state deployedVersion trainingVersion lastFailure versions { version }';
const DECISIONS = `{ coordinator { baselines { modelId baseline recent ratio }
  decisions(first: 100) { edges { node { type modelId data } } } } }`;

interface Decision {
  type: string;
  modelId: string;
  data: Record<string, unknown>;
}

/** x a smooth wave and y = slope·x (plus a little deterministic wobble), one sample a second from `start`. */
const samples = (start: number, from: number, count: number, slope: number, offset = 0) =>
  Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const x = 10 + 5 * Math.sin(i / 7);
    const timestamp = new Date(start + i * 1000).toISOString();
    const labels = [{ name: 'host', value: 'c' }];
    return [
      { name: 'coord_x', labels, kind: 'gauge', value: x, timestamp },
      {
        name: 'coord_y',
        labels,
        kind: 'gauge',
        value: slope * x + offset + 0.05 * Math.sin(i * 1.3),
        timestamp,
      },
    ];
  }).flat();

describe('the learning coordinator through the running service', () => {
  let service: Service & { url: string };
  const T0 = Math.floor((Date.now() - 900_000) / 1000) * 1000;
  const id = `coord-${Date.now().toString(36)}`;

  beforeAll(async () => {
    service = await startService({
      LEARNING_WORKERS: '1',
      COORDINATOR_TICK_MS: '200',
      COORDINATOR_MIN_ROWS: '20',
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  const model = async () =>
    (
      await gql<{
        model: { state: string; deployedVersion: number | null; versions: { version: number }[] };
      }>(service.url, `query ($id: String!) { model(id: $id) { ${MODEL} } }`, { id })
    ).data!.model;
  const decisions = async () =>
    (
      await gql<{ coordinator: { decisions: { edges: { node: Decision }[] } } }>(service.url, DECISIONS)
    ).data!.coordinator.decisions.edges.map((e) => e.node);
  async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      const found = await probe();
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('detects a degradation, retrains once (a second trigger recorded), promotes the better version, and the audit chain shows why', async () => {
    expect(await gql(service.url, INGEST, { samples: samples(T0, 0, 300, 2) })).toEqual({
      data: { ingestMetrics: { accepted: 600 } },
    });
    await settle(service);
    const register = await gql(
      service.url,
      `mutation ($modelId: String!, $input: RegisterModelInput!) { registerModel(modelId: $modelId, input: $input) { ... on Model { state } ... on Error { code message } } }`,
      {
        modelId: id,
        input: {
          name: 'y_of_x',
          algorithm: 'linearRegression',
          task: 'regression',
          testFraction: 0.25,
          dataset: {
            fromSeries: {
              series: [{ name: 'coord_x', matchers: [{ label: 'host', value: 'c' }] }],
              from: new Date(T0).toISOString(),
              to: new Date(T0 + 300_000).toISOString(),
              stepMs: 1000,
              target: {
                series: { name: 'coord_y', matchers: [{ label: 'host', value: 'c' }] },
                horizonSteps: 0,
              },
            },
          },
        },
      },
    );
    expect(register.data).toEqual({ registerModel: { state: 'registered' } });
    await gql(service.url, 'mutation ($id: String!) { trainModel(modelId: $id) { __typename } }', { id });
    await until('version 1', async () => ((await model()).versions.length === 1 ? true : undefined));
    await gql(
      service.url,
      'mutation ($id: String!) { promoteModel(modelId: $id, version: 1) { __typename } }',
      {
        id,
      },
    );

    // New data: y = 5x, after the deployed version's window.
    await gql(service.url, INGEST, { samples: samples(T0, 300, 100, 5) });
    await settle(service);
    const watched = await gql(
      service.url,
      `mutation ($id: String!) { watchModel(modelId: $id, policy: { degradationFactor: 1.5, scheduleMs: 1000, debounceMs: 600000 }) {
        ... on Coordinator { watched { modelId degradationFactor } } ... on Error { code message } } }`,
      { id },
    );
    expect(watched.data).toEqual({ watchModel: { watched: [{ modelId: id, degradationFactor: 1.5 }] } });

    await until('version 2 promoted', async () => ((await model()).deployedVersion === 2 ? true : undefined));
    // The scheduled trigger comes while a run is pending or within the debounce window: recorded, not run.
    const held = await until('the second trigger recorded', async () =>
      (await decisions()).find(
        (d) => (d.type === 'triggerMerged' || d.type === 'triggerDeferred') && d.data.reason === 'schedule',
      ),
    );
    expect(held.data).toMatchObject({ modelId: id, reason: 'schedule' });

    const all = (await decisions()).filter((d) => d.modelId === id);
    const types = all.map((d) => d.type);
    expect(types.filter((t) => t === 'retrainingTriggered')).toHaveLength(1);
    expect(all.find((d) => d.type === 'degradationDetected')!.data).toMatchObject({
      version: 1,
      factor: 1.5,
    });
    expect(Number(all.find((d) => d.type === 'degradationDetected')!.data.ratio)).toBeGreaterThan(1.5);
    expect(all.find((d) => d.type === 'retrainingTriggered')!.data).toMatchObject({
      reason: 'degradation',
      version: 2,
    });
    const decided = all.find((d) => d.type === 'promotionDecided')!;
    expect(decided.data).toMatchObject({ version: 2, against: 1, better: true });
    const evidence = decided.data.evidence as { rows: number; deployed: number; candidate: number };
    expect(evidence.rows).toBeGreaterThan(0);
    expect(evidence.candidate).toBeLessThan(evidence.deployed);

    // One training asked by the coordinator, and the promotion is its own, each with its cause.
    const audit = await gql<{
      auditEvents: { edges: { node: { type: string; principal: string; id: string } }[] };
    }>(
      service.url,
      'query ($f: AuditEventFilter) { auditEvents(filter: $f, first: 100) { edges { node { id type principal } } } }',
      { f: { streamId: `model-${id}` } },
    );
    const byCoordinator = audit
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((n) => n.principal === 'actor:coordinator-main');
    expect(byCoordinator.map((n) => n.type)).toEqual(['trainingRequested', 'modelDeployed']);
    const chain = await gql<{ causalChain: { links: { event: { type: string } }[] } }>(
      service.url,
      'query ($s: String!, $e: String!) { causalChain(streamId: $s, eventId: $e) { links { event { type } } } }',
      { s: `model-${id}`, e: byCoordinator[1]!.id },
    );
    expect(chain.errors).toBeUndefined();
    const chainTypes = chain.data!.causalChain.links.map((l) => l.event.type);
    const order = [
      'degradationDetected',
      'retrainingTriggered',
      'trainingRequested',
      'trainingSucceeded',
      'promotionDecided',
      'modelDeployed',
    ];
    expect(chainTypes.filter((t) => order.includes(t))).toEqual(order);

    const unwatched = await gql(
      service.url,
      'mutation ($id: String!) { unwatchModel(modelId: $id) { ... on Coordinator { watched { modelId } } } }',
      { id },
    );
    expect(unwatched.data).toEqual({ unwatchModel: { watched: [] } });
  }, 120_000);

  it('leaves a retrained version that is worse on the shared holdout registered but not promoted', async () => {
    const deployed = await gql<{ model: { versions: { version: number; data: { to: string } }[] } }>(
      service.url,
      'query ($id: String!) { model(id: $id) { versions { version data { to } } } }',
      { id },
    );
    const to = Date.parse(deployed.data!.model.versions.find((v) => v.version === 2)!.data.to);
    // After version 2's window: 18 s of another relation, then 8 s of y = 5x again (the later rows,
    // which the retrained version holds out and version 2 still predicts well).
    const start = Math.ceil(to / 1000) * 1000 + 500;
    await gql(service.url, INGEST, {
      samples: [...samples(start, 0, 18, -5, 120), ...samples(start, 18, 8, 5)],
    });
    await settle(service);
    // Watched again once every row is in the past, so the first look sees the whole window.
    await new Promise((r) => setTimeout(r, Math.max(0, start + 27_000 - Date.now())));
    const before = (await decisions()).length;
    await gql(
      service.url,
      'mutation ($id: String!) { watchModel(modelId: $id, policy: { degradationFactor: 1.5 }) { __typename } }',
      { id },
    );
    const decided = await until('the second promotion decision', async () =>
      (await decisions()).slice(before).find((d) => d.type === 'promotionDecided'),
    );
    expect(decided.data).toMatchObject({ modelId: id, version: 3, against: 2, better: false });
    const evidence = decided.data.evidence as { rows: number; deployed: number; candidate: number };
    expect(evidence.rows).toBeGreaterThan(0);
    expect(evidence.candidate).toBeGreaterThan(evidence.deployed);
    const after = await model();
    expect(after.deployedVersion).toBe(2);
    expect(after.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    // The same rows do not trigger again: no new run while nothing new arrives.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await model()).versions.map((v) => v.version)).toEqual([1, 2, 3]);
  }, 120_000);

  it("retrains on input drift: the inputs move while the relation holds, recorded with every feature's PSI", async () => {
    const driftId = `drift-${Date.now().toString(36)}`;
    const labels = [{ name: 'host', value: 'd' }];
    const rows = (from: number, count: number, centre: number) =>
      Array.from({ length: count }, (_, k) => {
        const i = from + k;
        const x = centre + 5 * Math.sin(i / 7);
        const timestamp = new Date(T0 + i * 1000).toISOString();
        return [
          { name: 'drift_x', labels, kind: 'gauge', value: x, timestamp },
          { name: 'drift_y', labels, kind: 'gauge', value: 2 * x + 0.05 * Math.sin(i * 1.3), timestamp },
        ];
      }).flat();
    await gql(service.url, INGEST, { samples: rows(0, 300, 10) });
    await settle(service);
    await gql(
      service.url,
      `mutation ($modelId: String!, $input: RegisterModelInput!) { registerModel(modelId: $modelId, input: $input) { __typename } }`,
      {
        modelId: driftId,
        input: {
          name: 'drift_y_of_x',
          algorithm: 'linearRegression',
          task: 'regression',
          testFraction: 0.25,
          dataset: {
            fromSeries: {
              series: [{ name: 'drift_x' }],
              from: new Date(T0).toISOString(),
              to: new Date(T0 + 300_000).toISOString(),
              stepMs: 1000,
              target: { series: { name: 'drift_y' }, horizonSteps: 0 },
            },
          },
        },
      },
    );
    await gql(service.url, 'mutation ($id: String!) { trainModel(modelId: $id) { __typename } }', {
      id: driftId,
    });
    const trained = async () =>
      (
        await gql<{ model: { versions: { version: number }[] } }>(
          service.url,
          'query ($id: String!) { model(id: $id) { versions { version } } }',
          { id: driftId },
        )
      ).data!.model.versions.length;
    await until('version 1', async () => ((await trained()) === 1 ? true : undefined));
    await gql(
      service.url,
      'mutation ($id: String!) { promoteModel(modelId: $id, version: 1) { __typename } }',
      {
        id: driftId,
      },
    );
    // The inputs move far from the training window's; y = 2x still holds, so the error does not rise.
    await gql(service.url, INGEST, { samples: rows(300, 100, 40) });
    await settle(service);
    await gql(
      service.url,
      'mutation ($id: String!) { watchModel(modelId: $id, policy: { degradationFactor: 50, debounceMs: 600000 }) { __typename } }',
      { id: driftId },
    );
    const drift = await until('drift detected', async () =>
      (await decisions()).find((d) => d.modelId === driftId && d.type === 'driftDetected'),
    );
    expect(Object.keys(drift.data.psi as object)).toEqual(['drift_x{host=d}']);
    expect((drift.data.psi as Record<string, number>)['drift_x{host=d}']).toBeGreaterThan(
      Number(drift.data.threshold),
    );
    const triggered = await until('the retraining it caused', async () =>
      (await decisions()).find((d) => d.modelId === driftId && d.type === 'retrainingTriggered'),
    );
    expect(triggered.data).toMatchObject({ reason: 'drift', version: 2 });
    const mine = (await decisions()).filter((d) => d.modelId === driftId).map((d) => d.type);
    expect(mine).not.toContain('degradationDetected');
    await gql(service.url, 'mutation ($id: String!) { unwatchModel(modelId: $id) { __typename } }', {
      id: driftId,
    });
  }, 120_000);
});
