import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentKind } from '../../../src/actors/agent.kind.js';
import { alertManagerKind } from '../../../src/actors/alertmanager.kind.js';
import { type ActorHost, createActorHost } from '../../../src/actors/host.js';
import { pipelineKind } from '../../../src/actors/pipeline.kind.js';
import { type AlertManagerOptions, createAlertManager } from '../../../src/alerting/manager.js';
import type { Notification } from '../../../src/domain/alerting/decide.js';
import { AlertRule } from '../../../src/domain/alerting/rules.js';
import { defineSeries } from '../../../src/domain/metrics/identity.js';
import type { SeriesDef } from '../../../src/domain/metrics/kinds.js';
import { PipelineDefinition } from '../../../src/domain/pipeline/definition.js';
import { createPipelineRuntime } from '../../../src/pipelines/runtime.js';
import { alertsProjection, findAlertTransitions } from '../../../src/projections/alerts/index.js';
import { createProjectionRunner } from '../../../src/projections/runner.js';
import { openAnalyticsStore } from '../../../src/stores/clickhouse/client.js';
import { migrate } from '../../../src/stores/clickhouse/migrations.js';
import type { EventStore, RecordedEvent } from '../../../src/stores/event-store/port.js';
import { createSqliteEventStore } from '../../../src/stores/event-store/sqlite.js';
import { batchEvent, batchOf } from '../../support/batches.js';
import { silentLogger, tempDir } from '../../support/fixtures.js';

async function streamOf(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(streamId)) out.push(e);
  return out;
}

describe('alert manager on pipeline anomalies, with a real webhook', () => {
  let events: EventStore;
  let host: ActorHost;
  let webhook: Server;
  let url = '';
  const received: Notification[] = [];
  let clock = 0;

  /** An alert manager posting to the test's webhook, its clock ticking only when a test says. */
  const managerOf = (rules: AlertRule[], options: Partial<AlertManagerOptions> = {}) =>
    createAlertManager({
      rules,
      events,
      host,
      logger: silentLogger,
      webhookUrl: url,
      tickMs: 3_600_000,
      ...options,
    });

  beforeEach(async () => {
    events = createSqliteEventStore({ path: join(tempDir(), 'events.db') });
    host = createActorHost({
      store: events,
      kinds: [pipelineKind(), agentKind(), alertManagerKind()],
      logger: silentLogger,
    });
    received.length = 0;
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(JSON.parse(body) as Notification);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', () => r()));
    const address = webhook.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  });
  afterEach(async () => {
    await host.stop();
    await events.close();
    await new Promise((r) => webhook.close(r));
  });

  it('plants a spike: anomaly, then alert, escalation when unacknowledged, and nothing sent under a silence', async () => {
    const T0 = Date.now() - 3_600_000;
    const cpu = defineSeries({ name: 'cpu', labels: { host: 'a' }, kind: 'gauge' });
    const pipeline = createPipelineRuntime({
      definition: PipelineDefinition.parse({
        id: 'detect',
        route: [{ name: 'cpu' }],
        quality: { allowedLatenessMs: 0, requiredLabels: [] },
        analytics: { minAnomalyScore: 0.5 },
      }),
      events,
      host,
      logger: silentLogger,
    });
    const rules = [
      AlertRule.parse({
        id: 'cpu_anomaly',
        match: { name: 'cpu' },
        condition: { type: 'anomalyScore', min: 0.5 },
        severity: 'warning',
        groupBy: ['host'],
        escalation: { afterMs: 60_000, to: 'critical' },
      }),
    ];
    const manager = managerOf(rules, { now: () => clock });
    await pipeline.start();
    await manager.start();
    let seq = 0;
    const feed = async (from: number, count: number, spikeAt?: number) => {
      const samples: [SeriesDef, number, number][] = [];
      for (let i = from; i < from + count; i++)
        samples.push([cpu, T0 + i * 1000, i === spikeAt ? 99 : 40 + Math.sin(i) * 2]);
      await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      seq++;
      await pipeline.waitFor();
      await manager.waitFor();
    };

    clock = 1_000_000;
    await feed(0, 100);
    await feed(100, 50, 120);
    const anomalies = (await streamOf(events, 'findings-detect')).filter((e) => e.type === 'anomalyDetected');
    expect(anomalies).toHaveLength(1);
    expect(received.map((n) => [n.reason, n.severity, n.group])).toEqual([
      ['fired', 'warning', { host: 'a' }],
    ]);

    clock += 60_000; // the escalation timeout passes without an acknowledgement
    await manager.tick();
    expect(received.map((n) => [n.reason, n.severity])).toEqual([
      ['fired', 'warning'],
      ['escalated', 'critical'],
    ]);

    clock += 300_000; // no new finding for resolveAfterMs (default 5 min): the anomaly alert resolves
    await manager.tick();
    expect(received.map((n) => n.reason)).toEqual(['fired', 'escalated', 'resolved']);

    await manager.silence(
      {
        id: 's1',
        matchers: { alertname: 'cpu_anomaly' },
        startsAt: 0,
        endsAt: clock + 3_600_000,
        comment: 'maintenance',
        createdBy: '',
      },
      'user:ann',
    );
    await feed(150, 200, 330); // a second spike, past the ensemble's damping period, under the silence
    const second = (await streamOf(events, 'findings-detect')).filter((e) => e.type === 'anomalyDetected');
    expect(second).toHaveLength(2); // the anomaly is found…
    expect(received).toHaveLength(3); // …the alert fires again, but nothing is sent

    const facts = (await streamOf(events, 'alertmanager-main')).map((e) => e.type);
    expect(facts).toEqual([
      'notificationRaised',
      'alertPending',
      'alertFired',
      'notificationSent',
      'notificationRaised',
      'alertEscalated',
      'notificationSent',
      'notificationRaised',
      'alertResolved',
      'notificationSent',
      'silenceCreated',
      'alertPending',
      'alertFired',
    ]);
    const state = await manager.context();
    expect(Object.values(state.alerts)).toMatchObject([
      { status: 'firing', severity: 'warning', escalated: false },
    ]);

    // The transitions are rows too, queryable by rule, time and severity.
    const dir = tempDir();
    const analytics = await openAnalyticsStore({ database: 'alerts_test', dataDir: join(dir, 'clickhouse') });
    await migrate(analytics, silentLogger);
    const runner = createProjectionRunner({
      projection: alertsProjection,
      events,
      analytics,
      logger: silentLogger,
    });
    await runner.start();
    await runner.waitFor();
    const rows = await findAlertTransitions(analytics, {
      from: new Date(0),
      to: new Date(clock + 1),
      severity: 'critical',
    });
    expect(rows.map((r) => [r.rule, r.transition])).toEqual([
      ['cpu_anomaly', 'alertEscalated'],
      ['cpu_anomaly', 'alertResolved'],
    ]);
    await runner.stop();
    await analytics.close();

    // A restarted manager continues from the recorded state: the firing alert is there to acknowledge.
    await manager.stop();
    const again = managerOf(rules, { now: () => clock });
    await again.start();
    await again.waitFor();
    expect(Object.keys((await again.context()).silences)).toEqual(['s1']);
    const key = Object.keys((await again.context()).alerts)[0]!;
    expect(await again.acknowledge(key, 'user:bob')).toBe(true);
    expect(
      (await streamOf(events, 'alertmanager-main')).map((e) => e.type).filter((t) => t === 'alertFired'),
    ).toHaveLength(2);
    await again.stop();
    await pipeline.stop();
  });

  it('delivers, after a restart, a notification raised just before the process stopped', async () => {
    const address = { kind: 'alertmanager', id: 'main' };
    const raised = {
      type: 'notificationRaised',
      id: 'cpu_anomaly|{"host":"a"}|fired|1000',
      delivery: true,
      rule: 'cpu_anomaly',
      reason: 'fired',
      severity: 'warning',
      group: { host: 'a' },
      alerts: [],
      rootCause: null,
      at: 1000,
    };
    // What a process that died between recording the notification and posting it leaves behind.
    await host.send(address, raised, { principal: 'actor:alertmanager-main' });
    const rules = [
      AlertRule.parse({
        id: 'cpu_anomaly',
        match: { name: 'cpu' },
        condition: { type: 'anomalyScore', min: 0.9 },
        severity: 'warning',
      }),
    ];
    const manager = managerOf(rules);
    await manager.start();
    await manager.waitFor();
    await manager.tick(); // waits for deliveries
    expect(received.map((n) => [(n as { id?: string }).id, n.reason, n.group])).toEqual([
      [raised.id, 'fired', { host: 'a' }],
    ]);
    const facts = (await streamOf(events, 'alertmanager-main')).map((e) => [
      e.type,
      (e.data as { id?: string }).id,
    ]);
    expect(facts).toEqual([
      ['notificationRaised', raised.id],
      ['notificationSent', raised.id],
    ]);
    expect((await manager.context()).undelivered).toEqual({});
    await manager.stop();

    // Once delivered, a further restart sends nothing again.
    const again = managerOf(rules);
    await again.start();
    await again.waitFor();
    await again.tick();
    expect(received).toHaveLength(1);
    await again.stop();
  });

  it('notices a silence that began before a restart (absence rules)', async () => {
    const up = defineSeries({ name: 'up', labels: { job: 'api' }, kind: 'gauge' });
    const rules = [
      AlertRule.parse({
        id: 'api_silent',
        match: { name: 'up' },
        condition: { type: 'absence' },
        severity: 'critical',
        forMs: 60_000,
      }),
      AlertRule.parse({
        id: 'load_high',
        match: { name: 'load' },
        condition: { type: 'threshold', op: '>', value: 10 },
        severity: 'warning',
      }),
    ];
    const load = defineSeries({ name: 'load', labels: {}, kind: 'gauge' });
    const T0 = Date.now() - 600_000;
    clock = 1_000_000;
    const options = { rules, events, host, logger: silentLogger, tickMs: 3_600_000, now: () => clock };
    const first = createAlertManager(options);
    await first.start();
    await events.append('samples-src', [batchEvent(batchOf('src', 0, [[up, T0, 1]]))], {
      expectedRevision: 'noStream',
    });
    // A later alert moves where evaluation resumes past the last sample of `up`.
    await events.append('samples-src', [batchEvent(batchOf('src', 1, [[load, T0 + 1000, 50]]))], {
      expectedRevision: 0n,
    });
    await first.waitFor();
    await first.stop(); // the series goes silent, and the manager restarts

    clock += 10_000;
    const second = createAlertManager(options);
    await second.start();
    await second.waitFor();
    await second.tick();
    const absence = async (m: typeof second) =>
      Object.values((await m.context()).alerts).filter((a) => a.rule === 'api_silent');
    expect(await absence(second)).toEqual([]); // silent 10 s: not yet
    clock += 50_000;
    await second.tick();
    expect(await absence(second)).toEqual([]); // silent for forMs, but the sighting may lag: not yet
    clock += 15_000; // silent for forMs + forMs / 4 since the last sighting before the restart
    await second.tick();
    expect(await absence(second)).toMatchObject([{ status: 'firing', labels: { job: 'api' } }]);
    const types = (await streamOf(events, 'alertmanager-main')).map((e) => e.type);
    expect(types.filter((t) => t === 'inputsObserved')).toHaveLength(1); // the sighting, recorded once
    await second.stop();
  });

  for (const failing of ['notificationRaised', 'notificationSent'] as const) {
    it(`notifies once when recording ${failing === 'notificationRaised' ? 'a decision' : 'a delivery'} fails and evaluation resumes`, async () => {
      let failed = false;
      // The host a process sees: the store refuses that one write once (a crash, or the store down).
      const flaky: ActorHost = {
        ...host,
        sendAll: (address, batch, envelope) => {
          if (!failed && (batch[0] as { type: string }).type === failing) {
            failed = true;
            return Promise.reject(new Error('store down'));
          }
          return host.sendAll(address, batch, envelope);
        },
      };
      const load = defineSeries({ name: 'load', labels: {}, kind: 'gauge' });
      const manager = createAlertManager({
        rules: [
          AlertRule.parse({
            id: 'load_high',
            match: { name: 'load' },
            condition: { type: 'threshold', op: '>', value: 10 },
            severity: 'warning',
          }),
        ],
        events,
        host: flaky,
        logger: silentLogger,
        webhookUrl: url,
        tickMs: 3_600_000,
      });
      await manager.start();
      await events.append('samples-src', [batchEvent(batchOf('src', 0, [[load, Date.now() - 1000, 50]]))], {
        expectedRevision: 'noStream',
      });
      await manager.waitFor();
      await manager.tick();
      expect(failed).toBe(true);
      const facts = (await streamOf(events, 'alertmanager-main')).map((e) => e.type);
      expect(facts).toEqual(['notificationRaised', 'alertPending', 'alertFired', 'notificationSent']);
      expect(received.map((n) => [n.rule, n.reason])).toEqual([['load_high', 'fired']]);
      await manager.stop();
    });
  }

  it('keeps nothing outside its recorded state: a manager rebuilt from the log equals the live one, field by field', async () => {
    const rules = [
      AlertRule.parse({
        id: 'load_high',
        match: { name: 'load' },
        condition: { type: 'threshold', op: '>', value: 10 },
        severity: 'warning',
        forMs: 5_000,
        escalation: { afterMs: 60_000, to: 'critical' },
      }),
      AlertRule.parse({
        id: 'load_jump',
        match: { name: 'load' },
        condition: { type: 'rateOfChange', perSecond: 5 },
        severity: 'info',
      }),
      AlertRule.parse({
        id: 'load_gone',
        match: { name: 'load' },
        condition: { type: 'absence' },
        severity: 'critical',
        forMs: 120_000,
      }),
      AlertRule.parse({
        id: 'odd',
        match: { name: 'load' },
        condition: { type: 'anomalyScore', min: 0.5 },
        severity: 'warning',
        resolveAfterMs: 30_000,
      }),
    ];
    clock = 5_000_000;
    const live = managerOf(rules, { now: () => clock });
    await live.start();
    const hosts = ['a', 'b', 'c'].map((h) =>
      defineSeries({ name: 'load', labels: { host: h }, kind: 'gauge' }),
    );
    const T0 = Date.now() - 600_000;
    let seq = 0;
    for (let step = 0; step < 12; step++) {
      const samples: [SeriesDef, number, number][] = hosts.map((def, i) => [
        def,
        T0 + step * 1000,
        step > 3 && i === 0 ? 50 + step * 10 : 2 + i,
      ]);
      await events.append('samples-src', [batchEvent(batchOf('src', seq, samples))], {
        expectedRevision: seq === 0 ? 'noStream' : BigInt(seq - 1),
      });
      seq++;
      await live.waitFor();
      clock += 3_000;
      if (step % 4 === 3) await live.tick();
    }
    const finding = {
      sourcePosition: '1',
      seriesId: hosts[1]!.id,
      name: 'load',
      labels: hosts[1]!.labels,
      ts: T0,
      value: 3,
      score: 0.8,
      detector: 'zscore',
      expectedLow: 0,
      expectedHigh: 1,
      window: '',
      windows: [],
    };
    await events.append('findings-p', [{ id: crypto.randomUUID(), type: 'anomalyDetected', data: finding }]);
    await live.waitFor();
    const firing = Object.values((await live.context()).alerts).find((a) => a.rule === 'load_high')!;
    expect(await live.acknowledge(firing.key, 'user:ann')).toBe(true);
    await live.silence(
      { id: 'quiet', matchers: { host: 'c' }, startsAt: 0, endsAt: clock + 1000, comment: '', createdBy: '' },
      'user:ann',
    );
    clock += 200_000;
    await live.tick(); // absence of b and c, escalation of nothing acknowledged, the finding alert goes quiet
    const state = await live.context();
    expect(
      Object.values(state.alerts)
        .map((a) => [a.rule, a.status])
        .sort(),
    ).toEqual(
      expect.arrayContaining([
        ['load_high', 'firing'],
        ['odd', 'resolved'],
        ['load_gone', 'firing'],
      ]),
    );
    expect(Object.keys(state.series)).toHaveLength(3);
    await live.stop();

    // Another process folds the stream: the same state, every field.
    const rebuilt = createActorHost({ store: events, kinds: [alertManagerKind()], logger: silentLogger });
    expect((await rebuilt.get({ kind: 'alertmanager', id: 'main' })).context).toEqual(state);
    await rebuilt.stop();
    // And a restarted manager goes on from exactly that state.
    const again = managerOf(rules, { now: () => clock });
    await again.start();
    await again.waitFor();
    expect(await again.context()).toEqual(state);
    await again.stop();
  });

  it('fails loudly when its stream cannot be read, instead of starting from an empty state', async () => {
    const broken: ActorHost = { ...host, get: () => Promise.reject(new Error('store down')) };
    const manager = createAlertManager({
      rules: [],
      events,
      host: broken,
      logger: silentLogger,
      tickMs: 3_600_000,
    });
    await manager.start();
    const deadline = Date.now() + 5000;
    while (manager.status().lastError === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(manager.status()).toMatchObject({ state: 'retrying', lastError: 'store down' });
    await manager.stop();
  });
});
