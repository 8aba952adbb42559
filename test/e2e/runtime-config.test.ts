import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { tempDir } from '../support/fixtures.js';
import { gql } from '../support/graphql.js';
import { type Service, startService } from '../support/service.js';

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

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } } }`;

const ENTRY = 'status version createdBy updatedBy origin definition';
const ERROR = '... on Error { code message } ... on ValidationError { issues { field reason } }';
const PIPELINE = `... on Pipeline { id state running ${ENTRY} } ${ERROR}`;
const RULE = `... on AlertRule { id severity ${ENTRY} } ${ERROR}`;
const TARGET = `... on ScrapeTarget { name url intervalMs ${ENTRY} } ${ERROR}`;
const COMPLEX = `... on ComplexEventRule { id kind ${ENTRY} } ${ERROR}`;

const DETECT = {
  id: 'detect',
  route: [{ name: 'cpu' }],
  quality: { allowedLatenessMs: 0, requiredLabels: [] },
  analytics: { minAnomalyScore: 0.5 },
};
const CPU_RULE = {
  id: 'cpu_anomaly',
  match: { name: 'cpu' },
  condition: { type: 'anomalyScore', min: 0.5 },
  severity: 'warning',
  groupBy: ['host'],
  resolveAfterMs: 2000,
};

/** Polls until `check` gives a value (not undefined/false), or fails after `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An operator's API key, created by the test admin: the key, and the principal it acts as. */
async function operatorKey(url: string): Promise<{ key: string; principal: string }> {
  const created = await gql<{ createApiKey: { key: string; apiKey: { keyId: string } } }>(
    url,
    'mutation { createApiKey(name: "ops", role: operator) { ... on CreatedApiKey { key apiKey { keyId } } } }',
  );
  const { key, apiKey } = created.data!.createApiKey;
  return { key, principal: `apikey:${apiKey.keyId}` };
}

/** The facts of a stream: type, principal and payload. */
async function factsOf(service: Service, streamId: string) {
  const out: { type: string; principal: unknown; data: Record<string, unknown> }[] = [];
  for await (const e of service.events.readStream(streamId))
    out.push({ type: e.type, principal: e.metadata.principal, data: e.data as Record<string, unknown> });
  return out;
}

describe('runtime configuration as facts', () => {
  const dataDir = tempDir('runtime-config-');
  const T0 = Date.now() - 600_000;
  let target: Server;
  let targetUrl = '';
  let service: (Service & { url: string }) | null = null;
  let rulesFile = '';
  let settings: Record<string, string> = {};

  beforeAll(async () => {
    target = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('shop_orders_total 5\n');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const address = target.address();
    targetUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/metrics`;
    rulesFile = join(dataDir, 'rules.json');
    writeFileSync(
      rulesFile,
      JSON.stringify([
        {
          id: 'mem_high',
          match: { name: 'mem' },
          condition: { type: 'threshold', op: '>', value: 1e12 },
          severity: 'info',
        },
        {
          id: 'disk_full',
          match: { name: 'disk' },
          condition: { type: 'threshold', op: '>', value: 0.99 },
          severity: 'critical',
        },
      ]),
    );
    settings = {
      DATA_DIR: dataDir,
      ALERT_RULES_FILE: rulesFile,
      ALERT_TICK_MS: '100',
      SCRAPE_TARGETS: `seeded=${targetUrl}`,
      SCRAPE_INTERVAL_MS: '3600000',
    };
  });

  afterAll(async () => {
    await service?.stop();
    await new Promise((r) => target?.close(r));
  });

  it('is changed through mutations, live, recorded with who asked, and survives a restart', async () => {
    service = await startService(settings);
    const svc = service;
    const ops = await operatorKey(svc.url);
    const as = bearer(ops.key);
    const call = async <T>(query: string, variables: Record<string, unknown> = {}, headers = as) => {
      const result = await gql<Record<string, T>>(svc.url, query, variables, headers);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return Object.values(result.data!)[0]!;
    };
    const nodes = async <T>(query: string) =>
      (await call<{ edges: { node: T }[] }>(query)).edges.map((e) => e.node);

    // The settings seeded their entries at start, as `system:config`.
    const seededRules = await call<{ edges: { node: { id: string; origin: string; createdBy: string } }[] }>(
      '{ alertRules { edges { node { id origin createdBy } } } }',
    );
    expect(seededRules.edges.map((e) => e.node)).toEqual([
      { id: 'mem_high', origin: 'seed', createdBy: 'system:config' },
      { id: 'disk_full', origin: 'seed', createdBy: 'system:config' },
    ]);
    expect(svc.agents.has('scrape-seeded')).toBe(true);

    // Bad input is refused, naming the field.
    const badRule = await call<{ code: string; issues: { field: string }[] }>(
      `mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE} } }`,
      { input: { ...CPU_RULE, condition: { type: 'threshold', op: '>' } } },
    );
    expect(badRule).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'input.condition.value' }],
    });
    const badPipeline = await call<{ code: string; issues: { field: string }[] }>(
      `mutation ($d: JSONObject!) { createPipeline(definition: $d) { ${PIPELINE} } }`,
      { d: { ...DETECT, mode: 'sometimes' } },
    );
    expect(badPipeline).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'definition.mode' }] });

    // A pipeline and an alert rule, created live.
    const created = await call<{ id: string; status: string; running: boolean; createdBy: string }>(
      `mutation ($d: JSONObject!) { createPipeline(definition: $d) { ${PIPELINE} } }`,
      { d: DETECT },
    );
    expect(created).toMatchObject({
      id: 'detect',
      status: 'active',
      running: true,
      createdBy: ops.principal,
    });
    // A retry of the same create records nothing and answers the entry; another definition conflicts.
    const retried = await call<{ id: string; version: number }>(
      `mutation ($d: JSONObject!) { createPipeline(definition: $d) { ${PIPELINE} } }`,
      { d: DETECT },
    );
    expect(retried).toMatchObject({ id: 'detect', version: 1 });
    const again = await call<{ code: string }>(
      `mutation ($d: JSONObject!) { createPipeline(definition: $d) { ${PIPELINE} } }`,
      { d: { ...DETECT, route: [{ name: 'other' }] } },
    );
    expect(again).toMatchObject({ code: 'CONFLICT' });
    const rule = await call<{ id: string; version: number }>(
      `mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE} } }`,
      { input: CPU_RULE },
    );
    expect(rule).toMatchObject({ id: 'cpu_anomaly', status: 'active', version: 1, updatedBy: ops.principal });
    const complex = await call<{ id: string }>(
      `mutation ($input: ComplexEventRuleInput!) { createComplexEventRule(input: $input) { ${COMPLEX} } }`,
      {
        input: {
          id: 'cpu_spikes',
          kind: 'count',
          match: { type: 'anomalyDetected', name: 'cpu' },
          n: 1,
          windowMs: 60_000,
        },
      },
    );
    expect(complex).toMatchObject({ id: 'cpu_spikes', kind: 'count', status: 'active' });

    // A spike becomes an anomaly, a complex event, and an alert.
    expect(await call(INGEST, { samples: samples(T0, 0, 100) })).toEqual({ accepted: 100 });
    expect(await call(INGEST, { samples: samples(T0, 100, 50, 120) })).toEqual({ accepted: 50 });
    const firing = await eventually(async () => {
      const alerts = await nodes<{ key: string; severity: string }>(
        '{ alerts(status: "firing") { edges { node { key severity } } } }',
      );
      return alerts.length ? alerts : undefined;
    });
    expect(firing).toEqual([expect.objectContaining({ severity: 'warning' })]);
    await eventually(async () => (await factsOf(svc, 'complex-main')).length === 1);

    // The rule changes live: its next alert has the new severity.
    const updated = await call<{ version: number; severity: string }>(
      `mutation ($input: AlertRuleInput!) { updateAlertRule(input: $input) { ${RULE} } }`,
      { input: { ...CPU_RULE, severity: 'critical' } },
    );
    expect(updated).toMatchObject({ severity: 'critical', version: 2, updatedBy: ops.principal });

    // (The first alert resolves once no anomaly renewed it for resolveAfterMs.)
    await eventually(
      async () => (await nodes('{ alerts(status: "firing") { edges { node { key } } } }')).length === 0,
    );

    // Paused, the pipeline analyses nothing; resumed, it goes on from its checkpoint.
    const paused = await call<{ state: string; running: boolean }>(
      `mutation { pausePipeline(id: "detect") { ${PIPELINE} } }`,
    );
    expect(paused).toMatchObject({ status: 'paused', state: 'paused', running: false });
    expect(svc.pipelines.map((p) => p.id)).toEqual([]);
    await call(INGEST, { samples: samples(T0, 150, 200, 330) });
    const anomalies = async () =>
      (await factsOf(svc, 'findings-detect')).filter(
        (f) => f.type === 'anomalyDetected' && f.data.value === 99,
      );
    expect(await anomalies()).toHaveLength(1);
    const resumed = await call<{ state: string; running: boolean }>(
      `mutation { resumePipeline(id: "detect") { ${PIPELINE} } }`,
    );
    expect(resumed).toMatchObject({ status: 'active', state: 'running', running: true });
    await svc.pipelines[0]!.waitFor();
    expect(await anomalies()).toHaveLength(2);
    await eventually(async () => {
      const alerts = await nodes<{ severity: string }>(
        '{ alerts(status: "firing") { edges { node { severity } } } }',
      );
      return alerts.some((a) => a.severity === 'critical');
    });

    // Scrape targets: added, scraped, paused (its agent stops), deleted.
    const scrape = await call<{ name: string }>(
      `mutation ($input: ScrapeTargetInput!) { createScrapeTarget(input: $input) { ${TARGET} } }`,
      { input: { name: 'shop', url: targetUrl, intervalMs: 100 } },
    );
    expect(scrape).toMatchObject({ name: 'shop', intervalMs: 100, status: 'active' });
    await eventually(async () => (svc.agents.get('scrape-shop')?.health().samplesRecorded ?? 0) > 0);
    await call(`mutation { pauseScrapeTarget(name: "shop") { ${TARGET} } }`);
    expect(svc.agents.has('scrape-shop')).toBe(false);
    await call(`mutation { deleteScrapeTarget(name: "shop") { ${TARGET} } }`);
    // A seeded entry deleted through the API…
    await call(`mutation { deleteAlertRule(id: "disk_full") { ${RULE} } }`);

    // Deletions stop what they configured; their history stays.
    const deleted = await call<{ state: string; running: boolean }>(
      `mutation { deletePipeline(id: "detect") { ${PIPELINE} } }`,
    );
    expect(deleted).toMatchObject({ status: 'deleted', state: 'deleted', running: false });
    expect(await call(`mutation { deleteAlertRule(id: "cpu_anomaly") { ${RULE} } }`)).toMatchObject({
      status: 'deleted',
      version: 3,
    });
    expect(
      await call<{ code: string }>(`mutation { pausePipeline(id: "detect") { ${PIPELINE} } }`),
    ).toMatchObject({ code: 'NOT_FOUND' });

    // Each change is a fact in its actor's stream, naming who asked.
    const lifecycle = await factsOf(svc, 'pipeline-detect');
    expect(
      lifecycle
        .filter((f) => f.type !== 'pipelineStarted' && f.type !== 'pipelineStopped')
        .map((f) => [f.type, f.principal]),
    ).toEqual([
      ['pipelineDefined', ops.principal],
      ['pipelinePaused', ops.principal],
      ['pipelineResumed', ops.principal],
      ['pipelineDeleted', ops.principal],
    ]);
    const ruleFacts = (await factsOf(svc, 'alertmanager-main')).filter((f) => f.type.startsWith('alertRule'));
    expect(
      ruleFacts.map((f) => [f.type, f.data.id ?? (f.data.rule as { id: string }).id, f.principal]),
    ).toEqual([
      ['alertRuleDefined', 'mem_high', 'system:config'],
      ['alertRuleDefined', 'disk_full', 'system:config'],
      ['alertRuleDefined', 'cpu_anomaly', ops.principal],
      ['alertRuleUpdated', 'cpu_anomaly', ops.principal],
      ['alertRuleDeleted', 'disk_full', ops.principal],
      ['alertRuleDeleted', 'cpu_anomaly', ops.principal],
    ]);
    expect(ruleFacts[3]!.data.changes).toEqual([{ path: 'severity', before: 'warning', after: 'critical' }]);
    expect((await factsOf(svc, 'scrapeconfig-main')).map((f) => [f.type, f.principal])).toEqual([
      ['scrapeTargetDefined', 'system:config'],
      ['scrapeTargetDefined', ops.principal],
      ['scrapeTargetPaused', ops.principal],
      ['scrapeTargetDeleted', ops.principal],
    ]);

    // Rebuilding a projection is for admins, and recorded with who asked.
    const refused = await gql(
      svc.url,
      `mutation { rebuildProjection(name: "alerts") { ... on ProjectionRebuild { projection } ${ERROR} } }`,
      {},
      as,
    );
    expect(JSON.stringify(refused)).toContain('FORBIDDEN');
    const rebuild = await call<{ requestedBy: string; status: { name: string } }>(
      `mutation { rebuildProjection(name: "alerts") { ... on ProjectionRebuild { requestedBy status { name state } } ${ERROR} } }`,
      {},
      bearer(),
    );
    expect(rebuild).toMatchObject({ status: { name: 'alerts' } });
    const [asked] = await factsOf(svc, 'projection-alerts');
    expect(asked).toMatchObject({ type: 'projectionRebuildRequested', principal: rebuild.requestedBy });
    // It projected the whole log again: every alert transition, from the first.
    await svc.projections.find((p) => p.name === 'alerts')!.waitFor();
    const projections = await call<{ name: string; state: string; eventsProjected: number }[]>(
      '{ projections { name state eventsProjected } }',
    );
    expect(projections.find((p) => p.name === 'alerts')).toMatchObject({ state: 'live' });
    const transitions = (await factsOf(svc, 'alertmanager-main')).filter(
      (f) => f.type.startsWith('alert') && 'key' in f.data,
    );
    expect(projections.find((p) => p.name === 'alerts')!.eventsProjected).toBeGreaterThanOrEqual(
      transitions.length,
    );
    const unknown = await call<{ code: string; issues: { field: string }[] }>(
      `mutation { rebuildProjection(name: "nope") { ... on ProjectionRebuild { projection } ${ERROR} } }`,
      {},
      bearer(),
    );
    expect(unknown).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'name' }] });

    // A restart on the same data, with the same settings: the configuration is what the log says.
    const before = (await factsOf(svc, 'alertmanager-main')).length;
    await svc.stop();
    service = null;
    const next = await startService(settings);
    service = next;
    const list = async <T>(field: string, fields: string) =>
      (
        await gql<Record<string, { edges: { node: T }[] }>>(
          next.url,
          `{ ${field}(includeDeleted: true) { edges { node { ${fields} } } } }`,
        )
      ).data![field]!.edges.map((e) => e.node);
    expect(await list('pipelines', 'id status running')).toEqual([
      { id: 'detect', status: 'deleted', running: false },
    ]);
    expect(await list('alertRules', 'id status severity')).toEqual([
      { id: 'mem_high', status: 'active', severity: 'info' },
      // …is not brought back by the unchanged file.
      { id: 'disk_full', status: 'deleted', severity: 'critical' },
      { id: 'cpu_anomaly', status: 'deleted', severity: 'critical' },
    ]);
    expect(await list('complexEventRules', 'id status')).toEqual([{ id: 'cpu_spikes', status: 'active' }]);
    expect(await list('scrapeTargets', 'name status')).toEqual([
      { name: 'seeded', status: 'active' },
      { name: 'shop', status: 'deleted' },
    ]);
    expect(next.pipelines).toEqual([]);
    expect(next.complexEvents).not.toBeNull();
    expect([...next.agents.keys()].filter((id) => id.startsWith('scrape-'))).toEqual(['scrape-seeded']);
    // No seed fact was written again.
    expect(
      (await factsOf(next, 'alertmanager-main')).filter((f) => f.type.startsWith('alertRule')),
    ).toHaveLength(6);
    expect((await factsOf(next, 'alertmanager-main')).length).toBeGreaterThanOrEqual(before);
    expect(await factsOf(next, 'scrapeconfig-main')).toHaveLength(4);

    // A changed file entry is applied (recorded as an update by system:config); the others are not.
    writeFileSync(
      rulesFile,
      JSON.stringify([
        {
          id: 'mem_high',
          match: { name: 'mem' },
          condition: { type: 'threshold', op: '>', value: 1e12 },
          severity: 'warning',
        },
        {
          id: 'disk_full',
          match: { name: 'disk' },
          condition: { type: 'threshold', op: '>', value: 0.99 },
          severity: 'critical',
        },
      ]),
    );
    await next.stop();
    service = null;
    const third = await startService(settings);
    service = third;
    const ruleChanges = (await factsOf(third, 'alertmanager-main')).filter((f) =>
      f.type.startsWith('alertRule'),
    );
    expect(ruleChanges.slice(6).map((f) => [f.type, f.principal, f.data.changes])).toEqual([
      ['alertRuleUpdated', 'system:config', [{ path: 'severity', before: 'info', after: 'warning' }]],
    ]);
  });
});
