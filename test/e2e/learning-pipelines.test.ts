import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/auth.js';
import { collect, createKey, gql, wsClient } from '../support/graphql.js';
import { type Service, settle, startService } from '../support/service.js';

const INGEST = `mutation ($samples: [SampleInput!]!) {
  ingestMetrics(samples: $samples) { ... on IngestResult { accepted } ... on Error { code message } }
}`;
const TASKS = 'id kind status starts failures error output';
const RUN = `run trigger status progress tasks { ${TASKS} }`;
const PIPELINE = `id state modelId mode builtIn runs currentRun { ${RUN} } recentRuns { ${RUN} }`;
const RESULT = `... on LearningPipeline { ${PIPELINE} } ... on Error { code message }`;
const DEFINE = `mutation ($id: String!, $d: JSONObject!) { defineLearningPipeline(id: $id, definition: $d) { ${RESULT} } }`;
const BUILT_IN = `mutation ($id: String!, $k: LearningPipelineBuiltIn!, $o: JSONObject!) {
  defineBuiltInLearningPipeline(id: $id, kind: $k, options: $o) { ${RESULT} } }`;
const command = (name: string) => `mutation ($id: String!) { ${name}(id: $id) { ${RESULT} } }`;

interface Task {
  id: string;
  kind: string;
  status: string;
  starts: number;
  failures: number;
  error: string | null;
  output: Record<string, unknown> | null;
}
interface Pipeline {
  id: string;
  state: string;
  modelId: string;
  runs: number;
  builtIn: string | null;
  currentRun: Run | null;
  recentRuns: Run[];
}
interface Run {
  run: number;
  trigger: string;
  status: string;
  progress: number;
  tasks: Task[];
}
/** A run at or after `min` that succeeded, the latest or one of those before it. */
const succeeded = (p: Pipeline, min: number): Run | undefined =>
  [p.currentRun, ...p.recentRuns].find(
    (r): r is Run => r !== null && r.run >= min && r.status === 'succeeded',
  );

type Sample = {
  name: string;
  labels: { name: string; value: string }[];
  kind: string;
  value: number;
  timestamp: string;
};
const sample = (name: string, value: number, t: number, labels: Record<string, string> = {}): Sample => ({
  name,
  labels: Object.entries(labels).map(([n, v]) => ({ name: n, value: v })),
  kind: 'gauge',
  value,
  timestamp: new Date(t).toISOString(),
});

/** x a smooth wave and y = 2x + 1 with a little deterministic wobble, one sample a second. */
const linear = (prefix: string, start: number, count: number) =>
  Array.from({ length: count }, (_, i) => {
    const x = 10 + 5 * Math.sin(i / 7);
    const t = start + i * 1000;
    return [sample(`${prefix}_x`, x, t), sample(`${prefix}_y`, 2 * x + 1 + 0.05 * Math.sin(i * 1.3), t)];
  }).flat();

const definition = (prefix: string, modelId: string, training: Record<string, unknown>, extra = {}) => ({
  modelId,
  windowMs: 1_200_000,
  dataset: {
    series: [{ name: `${prefix}_x` }],
    stepMs: 1000,
    lags: [1],
    target: { series: { name: `${prefix}_y` }, horizonSteps: 0 },
  },
  training: { task: 'regression', ...training },
  ...extra,
});

describe('learning pipelines through the running service', () => {
  let service: Service & { url: string };
  const T0 = Math.floor((Date.now() - 900_000) / 1000) * 1000;

  beforeAll(async () => {
    service = await startService({
      LEARNING_WORKERS: '1',
      LEARNING_PIPELINES_TICK_MS: '200',
      LEARNING_PIPELINES_MAX_RUNNING: '2',
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  const ingest = async (samples: Sample[]) => {
    for (let i = 0; i < samples.length; i += 2000)
      expect(await gql(service.url, INGEST, { samples: samples.slice(i, i + 2000) })).toMatchObject({
        data: { ingestMetrics: { accepted: Math.min(2000, samples.length - i) } },
      });
    await settle(service);
  };
  const pipeline = async (id: string) =>
    (
      await gql<{ learningPipeline: Pipeline }>(
        service.url,
        `query ($id: String!) { learningPipeline(id: $id) { ${PIPELINE} } }`,
        { id },
      )
    ).data!.learningPipeline;
  async function until(id: string, what: (p: Pipeline) => boolean, ms = 90_000): Promise<Pipeline> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      const p = await pipeline(id);
      if (what(p)) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out; last: ${JSON.stringify(await pipeline(id))}`);
  }
  const send = async (name: string, id: string) =>
    (
      await gql<Record<string, Pipeline & { code?: string; message?: string }>>(service.url, command(name), {
        id,
      })
    ).data![name]!;
  const model = async (id: string) =>
    (
      await gql<{ model: { deployedVersion: number | null; versions: { version: number }[] } }>(
        service.url,
        'query ($id: String!) { model(id: $id) { deployedVersion versions { version } } }',
        { id },
      )
    ).data!.model;

  it('runs read → features → train → evaluate → register → promote, with progress live, and promotes only a better version', async () => {
    await ingest(linear('lpa', T0, 600));
    const defined = await gql<{ defineLearningPipeline: Pipeline }>(service.url, DEFINE, {
      id: 'lin',
      d: definition('lpa', 'lp-model', { algorithm: 'linearRegression' }),
    });
    expect(defined.data?.defineLearningPipeline).toMatchObject({
      id: 'lin',
      state: 'idle',
      runs: 0,
      modelId: 'lp-model',
    });

    const client = wsClient(service.url);
    const live = collect<{ type: string; pipeline: { currentRun: { progress: number } | null } }>(
      client,
      'subscription { learningPipelineProgress(id: "lin") { type pipeline { currentRun { progress } } } }',
    );
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(await send('runLearningPipeline', 'lin')).toMatchObject({ state: 'running', runs: 1 });
      const done = await until('lin', (p) => p.state !== 'running');
      expect(done.currentRun).toMatchObject({ run: 1, trigger: 'manual', status: 'succeeded', progress: 1 });
      expect(done.currentRun!.tasks.map((t) => [t.id, t.status, t.starts])).toEqual(
        ['read', 'features', 'train', 'evaluate', 'register', 'promote'].map((id) => [id, 'succeeded', 1]),
      );
      const out = Object.fromEntries(done.currentRun!.tasks.map((t) => [t.id, t.output!]));
      expect(Number(out.features!.rows)).toBeGreaterThan(500);
      expect(Number((out.evaluate!.metrics as { rmse: number }).rmse)).toBeLessThan(0.2);
      expect(out.register).toMatchObject({ modelId: 'lp-model', version: 1 });
      expect(out.promote).toMatchObject({ promoted: true, version: 1 });

      const seen = await live.until((items) => items.filter((i) => i.type === 'taskSucceeded').length === 6);
      const types = seen.map((i) => i.type);
      expect(types.slice(0, 3)).toEqual(['runRequested', 'taskStarted', 'taskSucceeded']);
      expect(seen.at(-1)!.pipeline.currentRun!.progress).toBe(1);
    } finally {
      live.dispose();
      await client.dispose();
    }
    expect(await model('lp-model')).toEqual({ deployedVersion: 1, versions: [{ version: 1 }] });

    // A second pipeline into the same model with a worse learner: registered, compared, not promoted.
    await gql(service.url, DEFINE, {
      id: 'stump',
      d: definition('lpa', 'lp-model', { algorithm: 'decisionTree', params: { maxDepth: 1 } }),
    });
    await send('runLearningPipeline', 'stump');
    const stump = await until('stump', (p) => p.state !== 'running');
    expect(stump.currentRun!.status).toBe('succeeded');
    const promote = stump.currentRun!.tasks.find((t) => t.id === 'promote')!.output!;
    expect(promote).toMatchObject({ promoted: false, version: 2, against: 1, metric: 'rmse' });
    expect(Number(promote.rows)).toBeGreaterThan(0);
    expect(Number(promote.candidate)).toBeGreaterThan(Number(promote.deployed));
    expect(await model('lp-model')).toEqual({
      deployedVersion: 1,
      versions: [{ version: 1 }, { version: 2 }],
    });

    // The model's history names the pipeline as the author of its versions.
    const audit = await gql<{ auditEvents: { edges: { node: { type: string; principal: string } }[] } }>(
      service.url,
      'query { auditEvents(filter: { streamId: "model-lp-model" }, first: 20) { edges { node { type principal } } } }',
    );
    expect(audit.data!.auditEvents.edges.map((e) => [e.node.type, e.node.principal])).toEqual([
      ['modelRegistered', 'actor:learningpipeline-lin'],
      ['versionRegistered', 'actor:learningpipeline-lin'],
      ['modelDeployed', 'actor:learningpipeline-lin'],
      ['versionRegistered', 'actor:learningpipeline-stump'],
    ]);
  }, 180_000);

  it('retries a failing task, fails the run when retries run out, pauses, and resumes at the failed task', async () => {
    const d = definition(
      'lpb',
      'lp-missing',
      { algorithm: 'linearRegression' },
      {
        tasks: [
          { id: 'read', kind: 'read', retries: 1 },
          { id: 'features', kind: 'features', dependsOn: ['read'] },
          { id: 'train', kind: 'train', dependsOn: ['features'] },
          { id: 'evaluate', kind: 'evaluate', dependsOn: ['train'] },
          { id: 'register', kind: 'register', dependsOn: ['evaluate'] },
        ],
      },
    );
    await gql(service.url, DEFINE, { id: 'missing', d });
    await send('runLearningPipeline', 'missing');
    // The first attempt fails (no such series yet); the retry waits a second: paused meanwhile.
    await until('missing', (p) => p.currentRun!.tasks[0]!.failures === 1);
    expect(await send('pauseLearningPipeline', 'missing')).toMatchObject({
      state: 'paused',
      currentRun: { status: 'paused' },
    });
    expect(await send('resumeLearningPipeline', 'missing')).toMatchObject({ state: 'running' });
    const failed = await until('missing', (p) => p.state === 'failed');
    const read = failed.currentRun!.tasks[0]!;
    expect(read).toMatchObject({ status: 'failed', failures: 2 });
    expect(read.error).toMatch(/selects no series with samples/);
    expect(failed.currentRun!.tasks.slice(1).every((t) => t.status === 'pending' && t.starts === 0)).toBe(
      true,
    );

    await ingest(linear('lpb', T0, 300));
    expect(await send('resumeLearningPipeline', 'missing')).toMatchObject({ state: 'running' });
    const done = await until('missing', (p) => p.state !== 'running');
    expect(done.currentRun!.status).toBe('succeeded');
    expect(done.currentRun!.tasks.map((t) => [t.id, t.starts])).toEqual([
      ['read', 3],
      ['features', 1],
      ['train', 1],
      ['evaluate', 1],
      ['register', 1],
    ]);
    // Without a promote task the version is registered and left for a person to promote.
    expect(await model('lp-missing')).toEqual({ deployedVersion: null, versions: [{ version: 1 }] });
  }, 120_000);

  it('names operational states by their centres (built in)', async () => {
    const labels = { service: 'lp-state' };
    const samples: Sample[] = [];
    // Three regimes of two minutes each: quiet, busy (high cpu, high latency), cpu-bound batch (high cpu, low latency).
    const regimes = [
      [10, 50],
      [80, 400],
      [85, 20],
    ];
    for (let i = 0; i < 360; i++) {
      const [cpu, latency] = regimes[Math.floor(i / 120)]!;
      const t = T0 + i * 1000;
      samples.push(
        sample('lp_cpu', cpu! + Math.sin(i), t, labels),
        sample('lp_latency', latency! + Math.cos(i), t, labels),
      );
    }
    await ingest(samples);
    const defined = await gql<{ defineBuiltInLearningPipeline: Pipeline }>(service.url, BUILT_IN, {
      id: 'states',
      k: 'OPERATIONAL_STATE',
      o: {
        component: { matchers: [{ label: 'service', value: 'lp-state' }] },
        k: 3,
        stepMs: 1000,
        windowMs: 1_200_000,
        scheduleMs: 0,
      },
    });
    expect(defined.data?.defineBuiltInLearningPipeline).toMatchObject({
      builtIn: 'operationalState',
      modelId: 'states-states',
    });
    await send('runLearningPipeline', 'states');
    const done = await until('states', (p) => p.state !== 'running');
    expect(done.currentRun!.status).toBe('succeeded');
    const states = (
      done.currentRun!.tasks.find((t) => t.kind === 'evaluate')!.output!.states as {
        name: string;
        size: number;
      }[]
    ).map((s) => s.name);
    // Each state named by how its centre stands against the whole, in the features' own order.
    const parts = states.map((name) => name.split(', ').sort().join(', ')).sort();
    expect(parts).toEqual([
      'high lp_cpu, high lp_latency',
      'high lp_cpu, low lp_latency',
      'low lp_cpu, low lp_latency',
    ]);
  }, 120_000);

  it('takes the literal form of the README: one series, states named, the first version deployed', async () => {
    const defined = await gql<{ defineBuiltInLearningPipeline: { modelId: string } }>(
      service.url,
      'mutation { defineBuiltInLearningPipeline(id: "readme", kind: OPERATIONAL_STATE, options: { component: { name: "lpa_x" }, stepMs: 10000, windowMs: 3600000, scheduleMs: 0 }) { ... on LearningPipeline { modelId } ... on Error { code message } } }',
    );
    expect(defined.data).toEqual({ defineBuiltInLearningPipeline: { modelId: 'states-readme' } });
    await send('runLearningPipeline', 'readme');
    const done = await until('readme', (p) => p.state !== 'running');
    expect(done.currentRun!.status).toBe('succeeded');
    const names = (
      done.currentRun!.tasks.find((t) => t.id === 'evaluate')!.output!.states as { name: string }[]
    ).map((s) => s.name);
    expect(names).toHaveLength(3);
    expect(names).toEqual(expect.arrayContaining(['high lpa_x', 'low lpa_x']));
    expect((await model('states-readme')).deployedVersion).toBe(1);
  }, 60_000);

  it('keeps a baseline up to date on arriving data by incremental updates (built in, realtime)', async () => {
    const start = Date.now() - 300_000;
    await ingest(linear('lpc', Math.floor(start / 1000) * 1000, 290));
    const defined = await gql<{ defineBuiltInLearningPipeline: Pipeline }>(service.url, BUILT_IN, {
      id: 'base',
      k: 'BASELINE',
      o: {
        component: { name: 'lpc_x' },
        target: { name: 'lpc_y' },
        stepMs: 1000,
        windowMs: 600_000,
        scheduleMs: 300,
        minNewSteps: 4,
      },
    });
    expect(defined.data?.defineBuiltInLearningPipeline).toMatchObject({ builtIn: 'baseline' });
    // The same baseline by Holt-Winters: the target's level, trend and season, stepped on by new rows.
    const hw = await gql<{ defineBuiltInLearningPipeline: Pipeline }>(service.url, BUILT_IN, {
      id: 'base-hw',
      k: 'BASELINE',
      o: {
        component: { name: 'lpc_x' },
        target: { name: 'lpc_y' },
        model: 'holtWinters',
        stepMs: 1000,
        windowMs: 600_000,
        scheduleMs: 300,
        minNewSteps: 4,
      },
    });
    expect(hw.data?.defineBuiltInLearningPipeline).toMatchObject({ builtIn: 'baseline' });
    const first = await until('base', (p) => p.currentRun?.status === 'succeeded');
    const firstHw = await until('base-hw', (p) => p.currentRun?.status === 'succeeded');
    expect(firstHw.currentRun!.tasks.find((t) => t.kind === 'train')!.output).toMatchObject({
      algorithm: 'holtWinters',
      updatedFrom: null,
    });
    // Fitted on the window's first three quarters, it forecasts the last quarter of the wave closely.
    const hwRmse = (
      firstHw.currentRun!.tasks.find((t) => t.kind === 'evaluate')!.output!.metrics as { rmse: number }
    ).rmse;
    expect(hwRmse).toBeLessThan(1);
    expect(first.currentRun!.trigger).toBe('data');
    expect(first.currentRun!.tasks.find((t) => t.kind === 'train')!.output).toMatchObject({
      updatedFrom: null,
      fitFromScratch: 'the model has no version to update yet',
    });
    // New rows arrive after the window it learned from: the next run moves version 1 on by them.
    // An agent sampling every second: each whole second since the last sample, as time passes.
    let last = Math.floor(Date.now() / 1000) * 1000;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const next: Sample[] = [];
      for (; last + 1000 <= Date.now(); last += 1000) {
        const x = 10 + 5 * Math.sin(last / 3000);
        next.push(sample('lpc_x', x, last + 1000), sample('lpc_y', 2 * x + 1, last + 1000));
      }
      await ingest(next);
    }
    const second = succeeded(await until('base', (p) => succeeded(p, 2) !== undefined), 2)!;
    const train = second.tasks.find((t) => t.kind === 'train')!.output!;
    expect(train).toMatchObject({ updatedFrom: 1, fitFromScratch: null });
    // It read only the rows since the window the first run learned from (and the lags' warm-up).
    const read = (r: Run) => r.tasks.find((t) => t.kind === 'read')!.output!;
    expect(Number(read(second).buckets)).toBeLessThan(Number(read(first.currentRun!).buckets) / 5);
    const versions = (await model('baseline-base')).versions.map((v) => v.version);
    expect(versions).toEqual(expect.arrayContaining([1, 2]));
    const secondHw = succeeded(await until('base-hw', (p) => succeeded(p, 2) !== undefined), 2)!;
    expect(secondHw.tasks.find((t) => t.kind === 'train')!.output).toMatchObject({
      algorithm: 'holtWinters',
      updatedFrom: 1,
      fitFromScratch: null,
    });
  }, 120_000);

  it('checks definitions, names the field at fault, and keeps commands for admins', async () => {
    const cycle = await gql<{ defineLearningPipeline: { code: string; message: string } }>(
      service.url,
      DEFINE,
      {
        id: 'bad',
        d: definition(
          'lpa',
          'bad',
          { algorithm: 'linearRegression' },
          {
            tasks: [
              { id: 'a', kind: 'read', dependsOn: ['b'] },
              { id: 'b', kind: 'features', dependsOn: ['a'] },
            ],
          },
        ),
      },
    );
    expect(cycle.data?.defineLearningPipeline.code).toBe('VALIDATION_FAILED');
    expect(cycle.data?.defineLearningPipeline.message).toMatch(
      /definition\.tasks: the tasks a, b depend on each other in a cycle/,
    );
    const wrongTask = await gql<{ defineLearningPipeline: { code: string; message: string } }>(
      service.url,
      DEFINE,
      {
        id: 'bad',
        d: definition('lpa', 'bad', { algorithm: 'kMeans' }),
      },
    );
    expect(wrongTask.data?.defineLearningPipeline.message).toMatch(
      /definition\.training\.task: kMeans does clustering/,
    );
    const window = await gql<{ defineLearningPipeline: { code: string; message: string } }>(
      service.url,
      DEFINE,
      {
        id: 'bad',
        d: { ...definition('lpa', 'bad', { algorithm: 'linearRegression' }), windowMs: -1 },
      },
    );
    expect(window.data?.defineLearningPipeline.message).toMatch(/definition\.windowMs/);
    const builtIn = await gql<{ defineBuiltInLearningPipeline: { code: string; message: string } }>(
      service.url,
      BUILT_IN,
      {
        id: 'bad',
        k: 'FAILURE_PREDICTION',
        o: { horizonMs: 5 },
      },
    );
    expect(builtIn.data?.defineBuiltInLearningPipeline.message).toMatch(/options\.component/);
    expect((await send('runLearningPipeline', 'nope')).code).toBe('NOT_FOUND');

    const viewer = await createKey(service.url, 'lp-viewer', 'viewer');
    const listed = await gql<{ learningPipelines: { id: string }[] }>(
      service.url,
      '{ learningPipelines { id } }',
      {},
      bearer(viewer.key),
    );
    expect(listed.data?.learningPipelines.map((p) => p.id)).toEqual(expect.arrayContaining(['lin', 'stump']));
    const refused = await gql<{ runLearningPipeline: { code: string } }>(
      service.url,
      command('runLearningPipeline'),
      { id: 'lin' },
      bearer(viewer.key),
    );
    expect(refused.data?.runLearningPipeline.code).toBe('FORBIDDEN');
  }, 60_000);
});
