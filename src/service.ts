import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import type { Logger } from 'pino';
import { type ActorHost, createActorHost } from './actors/host.js';
import { actorKinds } from './actors/kinds.js';
import { createArtifactStore } from './actors/model.artifacts.js';
import { createModelRegistry, type ModelRegistry } from './actors/model.registry.js';
import { poolTrainer } from './actors/model.training.js';
import { loadAlertRules } from './alerting/load.js';
import { type AlertManager, createAlertManager } from './alerting/manager.js';
import { type Access, createAccess } from './auth/access.js';
import { type CollectionAgent, createCollectionAgent } from './collection/agent.js';
import { sweepIdleSeries } from './collection/idle-sweep.js';
import { selfMonitor } from './collection/self-monitor.js';
import { SeriesRegistry } from './collection/series-registry.js';
import { loadComplexEventRules } from './complex-events/load.js';
import type { ComplexEventRuntime } from './complex-events/runtime.js';
import type { Config } from './config.js';
import { defaultAlertRules, defaultPipeline } from './configuration/defaults.js';
import { type Configuration, createConfiguration } from './configuration/index.js';
import { type Coordinator, createCoordinator } from './coordinator/coordinator.js';
import { forecast } from './domain/forecast/forecast.js';
import { createForecaster, type Forecaster } from './forecasting/forecaster.js';
import { createOtlpHandler } from './ingest/otlp/handler.js';
import { createLearningPool, type LearningPool } from './learning/pool/pool.js';
import { createBlobStore } from './learning-pipelines/blobs.js';
import { createLearningPipelines, type LearningPipelines } from './learning-pipelines/pipelines.js';
import { createTaskRunner } from './learning-pipelines/tasks/index.js';
import { loadPipelines } from './pipelines/load.js';
import { createPipelineRuntime, type PipelineRuntime } from './pipelines/runtime.js';
import { allProjections } from './projections/index.js';
import { recentTimes } from './projections/metric-series/recent-times.js';
import { createProjectionRunner, type ProjectionRunner } from './projections/runner.js';
import { createRecommender, type Recommender } from './recommendations/recommender.js';
import { deleteSeries } from './retention/delete-series.js';
import { createExpiry, type Expiry } from './retention/expiry.js';
import { eventLoopLag } from './runtime/event-loop-lag.js';
import { createLogHub } from './runtime/log-hub.js';
import { createScorers, type Scorers } from './scoring/scorers.js';
import { type App, buildApp } from './server/app.js';
import { seriesExportRoute } from './server/export.js';
import { createGraphQLServer } from './server/graphql.js';
import { createHealth, type Health, type HealthConsumer } from './server/health.js';
import { createServiceMetrics } from './server/metrics.js';
import { type AnalyticsStore, openAnalyticsStore } from './stores/clickhouse/client.js';
import { migrate } from './stores/clickhouse/migrations.js';
import { applyRetention } from './stores/clickhouse/retention.js';
import { type DataKey, dataKeyFromSetting } from './stores/encryption.js';
import { createEsdbEventStore } from './stores/event-store/esdb.js';
import type { EventStore } from './stores/event-store/port.js';
import { createSqliteEventStore } from './stores/event-store/sqlite.js';

export interface Service {
  readonly app: App;
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly host: ActorHost;
  readonly agents: ReadonlyMap<string, CollectionAgent>;
  readonly projections: readonly ProjectionRunner[];
  /** The pipelines' consumers running now (the configured pipelines are in `configuration`). */
  readonly pipelines: readonly PipelineRuntime[];
  /** Always there (with no rules until some are defined). */
  readonly alertManager: AlertManager;
  /** The runtime judging the complex-event rules in force; null while there are none. */
  readonly complexEvents: ComplexEventRuntime | null;
  /** Pipelines, alert rules, complex-event rules and scrape targets as facts, changed at run time. */
  readonly configuration: Configuration;
  readonly health: Health;
  /** Authentication, rate limits and refusals. */
  readonly access: Access;
  /** Worker threads for fitting and evaluating models. */
  readonly learningPool: LearningPool;
  /** Forecast rules, scheduled forecasts and their scores. */
  readonly forecaster: Forecaster;
  /** Watches deployed models, retrains them and decides promotions (the learning coordinator). */
  readonly coordinator: Coordinator;
  readonly learningPipelines: LearningPipelines;
  readonly expiry: Expiry;
  /** Models attached to live series and their scorers. */
  readonly scorers: Scorers;
  /** Recommended parameter settings and their scores. */
  readonly recommender: Recommender;
  /**
   * Starts, in order: the projections; the configuration (folded from the log and seeded from the
   * settings files): the pipelines, complex events, the alert manager and the scrape agents; the
   * other agents (replaying any spool), then the HTTP server; then resumes actors left mid-work.
   */
  start(): Promise<{ port: number; host: string }>;
  /**
   * Stops in the reverse order: no new requests, then the agents (flushing what they hold), then the
   * consumers of the log (each with a final checkpoint), the actor host, and last the stores.
   */
  stop(): Promise<void>;
}

function openEventStore(config: Config, dataKey: DataKey | null): EventStore {
  if (config.EVENTSTORE_URL) {
    return createEsdbEventStore(EventStoreDBClient.connectionString`${config.EVENTSTORE_URL}`);
  }
  return createSqliteEventStore({
    path: join(resolve(config.DATA_DIR), 'events.db'),
    synchronous: config.EVENTSTORE_SYNC,
    key: dataKey?.subkey('event-log') ?? null,
  });
}

/** The analytics store the settings name: a ClickHouse server, or chDB under `DATA_DIR/clickhouse`. */
export function openAnalytics(
  config: Config,
  dataKey: DataKey | null = dataKeyFromSetting(config.DATA_ENCRYPTION_KEY),
): Promise<AnalyticsStore> {
  return openAnalyticsStore({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    dataDir: join(resolve(config.DATA_DIR), 'clickhouse'),
    encryptionKey: dataKey?.subkey('clickhouse-disk') ?? null,
  });
}

/** The composition root: the one place that picks adapters and wires them together. */
export async function createService(config: Config, logger: Logger): Promise<Service> {
  const version = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const dataDir = resolve(config.DATA_DIR);
  // Encryption at rest (DATA_ENCRYPTION_KEY): each store takes its own subkey; see docs/security.md.
  const dataKey = dataKeyFromSetting(config.DATA_ENCRYPTION_KEY);
  if (dataKey && config.CLICKHOUSE_URL)
    logger.warn(
      'DATA_ENCRYPTION_KEY encrypts the files this service writes; the ClickHouse server at CLICKHOUSE_URL encrypts its own data only if its disks are configured to (see "Encryption at rest" in docs/security.md)',
    );
  if (dataKey && config.EVENTSTORE_URL)
    logger.warn(
      'DATA_ENCRYPTION_KEY does not reach the event store server at EVENTSTORE_URL: encrypt its storage there (see "Encryption at rest" in docs/security.md)',
    );
  const events = openEventStore(config, dataKey);
  const analytics = await openAnalytics(config, dataKey);
  const migrations = await migrate(analytics, logger);
  await applyRetention(
    analytics,
    {
      rawDays: config.SAMPLES_RETENTION_DAYS,
      rollup1mDays: config.ROLLUP_1M_RETENTION_DAYS,
      rollup1hDays: config.ROLLUP_1H_RETENTION_DAYS,
    },
    logger,
  );
  const learningPool = createLearningPool({
    ...(config.LEARNING_WORKERS === undefined ? {} : { size: config.LEARNING_WORKERS }),
    queueMax: config.LEARNING_QUEUE_MAX,
    logger,
  });
  // Fitted models too large for a fact are kept here, content-addressed (see src/actors/model.artifacts.ts).
  const modelArtifacts = createArtifactStore(
    join(dataDir, 'models'),
    undefined,
    dataKey?.subkey('model-artifacts') ?? null,
  );
  const learningBlobs = createBlobStore(join(dataDir, 'learning'), dataKey?.subkey('learning-blobs') ?? null);
  // The host and the registry are made after the kinds that take the task runner: it reaches them late.
  const host: ActorHost = createActorHost({
    store: events,
    kinds: actorKinds({
      modelTrainer: poolTrainer({ pool: learningPool, analytics, artifacts: modelArtifacts }),
      learningTasks: createTaskRunner({
        analytics,
        pool: learningPool,
        artifacts: modelArtifacts,
        // What learning pipelines' tasks make, content-addressed (see src/learning-pipelines/blobs.ts).
        blobs: learningBlobs,
        get models() {
          return models;
        },
        host: () => host,
        now: Date.now,
      }),
    }),
    logger,
    snapshotEvery: config.ACTOR_SNAPSHOT_EVERY,
  });
  const models: ModelRegistry = createModelRegistry({ host, events, analytics, artifacts: modelArtifacts });
  // Models attached to live series: one scorer per attachment (see src/learning/scorers.ts).
  const scorers = createScorers({ events, models, logger });
  // Recommended parameter settings, scored once applied (see src/recommendations).
  const recommender = createRecommender({
    events,
    analytics,
    models,
    logger,
    tickMs: config.RECOMMENDATIONS_TICK_MS,
  });
  // The settings files only seed the configuration, whose truth is the log (see src/configuration).
  const analysedByDefault = config.DEFAULT_ANALYTICS === 'on';
  const seeds = {
    pipelines: [
      ...(analysedByDefault ? [defaultPipeline(config.DEFAULT_ANALYTICS_MATCH)] : []),
      ...(config.PIPELINES_FILE ? loadPipelines(config.PIPELINES_FILE) : []),
    ],
    alertRules: [
      ...(analysedByDefault ? defaultAlertRules(config.DEFAULT_ANALYTICS_MATCH) : []),
      ...(config.ALERT_RULES_FILE ? loadAlertRules(config.ALERT_RULES_FILE) : []),
    ],
    complexRules: config.COMPLEX_EVENT_RULES_FILE
      ? loadComplexEventRules(config.COMPLEX_EVENT_RULES_FILE)
      : [],
    scrapeTargets: config.SCRAPE_TARGETS,
  };
  const alertManager = createAlertManager({
    events,
    host,
    logger,
    webhookUrl: config.ALERT_WEBHOOK_URL,
    tickMs: config.ALERT_TICK_MS,
    recentTimes: (ids) => recentTimes(analytics, ids),
    evictAfterMs: config.INGEST_SERIES_IDLE_HOURS * 3_600_000,
  });
  const definitions = allProjections();
  const projections = definitions.map((projection) =>
    createProjectionRunner({
      projection,
      events,
      analytics,
      logger,
      batchSize: config.PROJECTION_BATCH_SIZE,
    }),
  );
  /** The projections that read samples streams: only they hold back the scavenging of those streams. */
  const samplesReaders = projections.filter((_, i) => {
    const categories = definitions[i]!.filter?.categories;
    return categories === undefined || categories.includes('samples');
  });

  // The series every agent takes, counted against the limits; kept across restarts in DATA_DIR.
  const registry = new SeriesRegistry(
    {
      maxSeries: config.INGEST_MAX_SERIES,
      maxSeriesPerMetric: config.INGEST_MAX_SERIES_PER_METRIC,
      idleMs: config.INGEST_SERIES_IDLE_HOURS * 3_600_000,
    },
    join(dataDir, 'series.registry'),
    undefined,
    dataKey?.subkey('series-registry') ?? null,
  );
  registry.open();
  const agents = new Map<string, CollectionAgent>();
  const newAgent = (id: string) => {
    const agent = createCollectionAgent({
      id,
      events,
      host,
      logger,
      spoolDir: join(dataDir, 'spool'),
      spoolKey: dataKey?.subkey('spool') ?? null,
      registry,
      batchMaxSamples: config.AGENT_BATCH_MAX_SAMPLES,
      batchMaxDelayMs: config.AGENT_BATCH_MAX_DELAY_MS,
      bufferCapacity: config.AGENT_BUFFER_CAPACITY,
      spoolMaxBytes: config.AGENT_SPOOL_MAX_BYTES,
      ackTimeoutMs: config.INGEST_ACK_TIMEOUT_MS,
      privacy: {
        dropLabels: config.PRIVACY_DROP_LABELS,
        hashLabels: config.PRIVACY_HASH_LABELS,
        valueRules: config.PRIVACY_VALUE_RULES,
        secret: config.PRIVACY_HASH_SECRET ?? '',
      },
      samplesMaxAgeMs:
        config.SAMPLES_STREAM_MAX_AGE_HOURS === 0 ? null : config.SAMPLES_STREAM_MAX_AGE_HOURS * 3_600_000,
      limits: {
        maxPastMs: config.INGEST_MAX_PAST_SECONDS * 1000,
        maxFutureMs: config.INGEST_MAX_FUTURE_SECONDS * 1000,
        maxSeriesPerMetric: config.INGEST_MAX_SERIES_PER_METRIC,
      },
    });
    agents.set(id, agent);
    return agent;
  };
  const otlp = newAgent('otlp');
  const configuration = createConfiguration({
    events,
    host,
    logger,
    alertManager,
    projections,
    seeds,
    pipelineRuntime: (definition, startAfter) =>
      createPipelineRuntime({
        definition,
        events,
        host,
        logger,
        startAfter,
        idleMs: config.PIPELINE_SERIES_IDLE_HOURS * 3_600_000,
        checkpointMinIntervalMs: config.PIPELINE_CHECKPOINT_MIN_INTERVAL_MS,
      }),
    scrape: {
      agent: newAgent,
      forget: (agent) => {
        if (agents.get(agent.id) === agent) agents.delete(agent.id);
      },
      defaults: { intervalMs: config.SCRAPE_INTERVAL_MS, maxBodyBytes: config.SCRAPE_MAX_BODY_BYTES },
    },
  });
  const forecaster = createForecaster({
    events,
    analytics,
    host,
    logger,
    method: forecast,
    tickMs: config.FORECAST_TICK_MS,
    scoreDelayMs: config.FORECAST_SCORE_DELAY_MS,
  });
  const coordinator = createCoordinator({
    host,
    models,
    analytics,
    events,
    logger,
    tickMs: config.COORDINATOR_TICK_MS,
    minRows: config.COORDINATOR_MIN_ROWS,
    driftPsi: config.COORDINATOR_DRIFT_PSI,
  });
  const learningPipelines = createLearningPipelines({
    host,
    analytics,
    blobs: learningBlobs,
    events,
    logger,
    tickMs: config.LEARNING_PIPELINES_TICK_MS,
    maxRunning: config.LEARNING_PIPELINES_MAX_RUNNING,
  });
  // Findings, alerts, predictions, forecasts and the audit index expire too, each run a fact.
  const expiry = createExpiry({
    analytics,
    events,
    logger,
    days: {
      findings: config.FINDINGS_RETENTION_DAYS,
      alerts: config.ALERTS_RETENTION_DAYS,
      predictions: config.PREDICTIONS_RETENTION_DAYS,
      forecasts: config.FORECASTS_RETENTION_DAYS,
      auditIndex: config.AUDIT_INDEX_RETENTION_DAYS,
    },
    holds: (kind, at) =>
      kind === 'alerts' || kind === 'findings'
        ? learningPipelines.labelsNeededFrom(kind, at)
        : Promise.resolve(null),
    intervalMs: config.RETENTION_INTERVAL_MS,
  });
  const self = config.SELF_MONITOR_INTERVAL_MS > 0 ? newAgent('self') : null;
  const access = createAccess(config, events, logger);
  const refusalCounters = () =>
    ['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED'].map((code) => ({
      name: 'aul_access_refused_total',
      labels: { code },
      value: access.refusals.counts().get(code as never) ?? 0,
    }));
  const monitor = self ? selfMonitor(self, () => [...agents.values()], refusalCounters) : null;

  const consumers = (): HealthConsumer[] => [
    ...projections.map((p) => ({ name: `projection:${p.name}`, consumerStatus: () => p.consumerStatus() })),
    ...configuration.pipelines
      .runtimes()
      .map((p) => ({ name: `pipeline:${p.id}`, consumerStatus: () => p.status().consumer })),
    ...[configuration.complexEvents()].flatMap((c) =>
      c ? [{ name: 'complexevents', consumerStatus: () => c.status().consumer }] : [],
    ),
    { name: 'alertmanager', consumerStatus: () => alertManager.status() },
    ...scorers.statuses().map((s) => ({ name: `scorer:${s.id}`, consumerStatus: () => s.consumer })),
  ];
  const lag = eventLoopLag();
  const health = createHealth({
    events,
    analytics,
    consumers,
    agents: () => [...agents.values()],
    version,
    migrations,
    stallMs: config.READINESS_STALL_MS,
    lag,
    learningPool: () => learningPool.status(),
  });
  // One shared tail of the log feeds every GraphQL subscription of this instance.
  const logHub = createLogHub({ events, logger });
  const app = buildApp({
    logger,
    version,
    health,
    gate: access.gate,
    graphqlMaxBodyBytes: config.GRAPHQL_MAX_BODY_BYTES,
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { tls: { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE } }
      : {}),
    metrics: createServiceMetrics({
      projections,
      consumers,
      problems: () => health.problems(),
      counters: refusalCounters,
    }),
    graphql: createGraphQLServer(
      {
        events,
        analytics,
        alertManager,
        ingestAgent: otlp,
        logHub,
        apiKeys: access.keys,
        configuration,
        learningPool,
        forecaster,
        coordinator,
        learningPipelines,
        deleteSeries: (ids, principal, reason) =>
          deleteSeries(
            {
              events,
              analytics,
              projected: async (position) => {
                // The pipelines first (their findings of the series' earlier samples), then the projections.
                for (const pipeline of configuration.pipelines.runtimes()) await pipeline.waitFor(position);
                for (const projection of projections) await projection.waitFor(position);
              },
            },
            ids,
            principal,
            reason,
          ),
        privacyKeys: {
          current: config.PRIVACY_HASH_SECRET ?? null,
          previous: config.PRIVACY_HASH_PREVIOUS_SECRETS,
        },
        models,
        scorers,
        recommender,
      },
      {
        gate: access.gate,
        corsOrigins: config.CORS_ORIGINS,
        introspection: config.GRAPHQL_INTROSPECTION === 'on',
        graphiql: config.GRAPHIQL === 'on',
      },
      logger,
    ),
    routes: [
      {
        method: 'POST',
        path: '/v1/metrics',
        role: 'operator',
        handle: createOtlpHandler({
          agent: otlp,
          logger,
          maxBodyBytes: config.OTLP_MAX_BODY_BYTES,
          maxDecodedBytes: config.OTLP_MAX_DECODED_BYTES,
          maxConcurrentRequests: config.OTLP_MAX_CONCURRENT_REQUESTS,
          lag,
          maxLagMs: config.INGEST_MAX_EVENT_LOOP_LAG_MS,
        }),
      },
      seriesExportRoute({ analytics, logger }),
    ],
  });

  /**
   * Expired events (samples streams past their max age) are deleted only up to the oldest position
   * every projection and pipeline has processed, so nothing is removed before it reached ClickHouse.
   */
  async function scavenge(): Promise<void> {
    const positions: (string | null)[] = [
      ...(await Promise.all(samplesReaders.map(async (p) => (await p.status()).checkpoint))),
      // A pipeline re-reads from its checkpoint after a crash: that is what it still needs.
      ...configuration.pipelines.runtimes().map((p) => p.status().checkpointPosition),
    ];
    if (positions.some((p) => p === null)) return;
    // biome-ignore lint/complexity/useMathMinMax: these are bigints
    const safe = positions.map((p) => BigInt(p!)).reduce((a, b) => (a < b ? a : b));
    const removed = await events.scavenge(safe);
    if (removed) logger.info({ removed }, 'scavenged expired events');
  }
  let scavenger: NodeJS.Timeout | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  return {
    app,
    events,
    analytics,
    host,
    agents,
    projections,
    get pipelines() {
      return configuration.pipelines.runtimes();
    },
    alertManager,
    get complexEvents() {
      return configuration.complexEvents();
    },
    configuration,
    health,
    access,
    learningPool,
    forecaster,
    coordinator,
    learningPipelines,
    expiry,
    scorers,
    recommender,
    async start() {
      await access.start();
      for (const projection of projections) await projection.start();
      // Pipelines, complex-event rules, the alert manager and scrape targets, seeded and started.
      await configuration.start();
      await forecaster.start();
      await coordinator.start();
      await learningPipelines.start();
      expiry.start();
      await scorers.start();
      await recommender.start();
      await otlp.start(['event']);
      if (self && monitor) {
        await self.start(['periodic']);
        self.sample(monitor.sampler, config.SELF_MONITOR_INTERVAL_MS);
      }
      scavenger = setInterval(() => {
        scavenge().catch((error: unknown) => logger.warn({ err: error }, 'scavenge failed'));
      }, config.SCAVENGE_INTERVAL_MS);
      scavenger.unref();
      sweeper = setInterval(
        () => {
          sweepIdleSeries(registry, events, config.INGEST_SERIES_IDLE_HOURS * 3_600_000, logger).catch(
            (error: unknown) => logger.error({ err: error }, 'idle series sweep failed'),
          );
        },
        Math.min(3_600_000, (config.INGEST_SERIES_IDLE_HOURS * 3_600_000) / 10),
      );
      sweeper.unref();
      const bound = await app.start({ port: config.PORT, host: config.HOST });
      const resumed = await host.recover();
      if (resumed > 0) logger.info({ resumed }, 'resumed actors with work in flight');
      return bound;
    },
    async stop() {
      if (scavenger) clearInterval(scavenger);
      if (sweeper) clearInterval(sweeper);
      await coordinator.stop();
      await learningPipelines.stop();
      await expiry.stop();
      lag.close();
      await app.stop();
      await learningPool.close();
      await logHub.close();
      monitor?.close();
      for (const agent of agents.values()) await agent.stop();
      await forecaster.stop();
      await scorers.stop();
      await recommender.stop();
      await configuration.stop();
      await host.stop();
      await access.stop();
      for (const projection of projections) await projection.stop();
      await analytics.close();
      await events.close();
    },
  };
}
