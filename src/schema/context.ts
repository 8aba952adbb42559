import type { ModelRegistry } from '../actors/model.registry.js';
import type { AlertManager } from '../alerting/manager.js';
import type { ApiKeys } from '../auth/api-keys.js';
import type { CollectionAgent } from '../collection/agent.js';
import type { Configuration } from '../configuration/index.js';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { Principal } from '../domain/auth/roles.js';
import type { Forecaster } from '../forecasting/forecaster.js';
import type { LearningPool } from '../learning/pool/pool.js';
import type { LearningPipelines } from '../learning-pipelines/pipelines.js';
import type { Recommender } from '../recommendations/recommender.js';
import type { SeriesDeletion } from '../retention/delete-series.js';
import type { LogHub } from '../runtime/log-hub.js';
import type { Scorers } from '../scoring/scorers.js';
import type { AnalyticsStore } from '../stores/clickhouse/client.js';
import type { EventStore } from '../stores/event-store/port.js';

/** Where refusals go: recorded as facts (rate-limited, aggregated for the unauthenticated) and counted. */
export interface RefusalSink {
  refused(caller: Principal, operation: string, reason: string): void;
}

/** What every resolver can reach: the ports, the actors it may command, and who is asking. */
export interface GraphQLContext {
  readonly events: EventStore;
  readonly analytics: AnalyticsStore;
  readonly alertManager: AlertManager;
  /** The agent behind the `ingestMetrics` mutation. */
  readonly ingestAgent: CollectionAgent;
  /** Pipelines, alert rules, complex-event rules, scrape targets and projection rebuilds, changed at run time. */
  readonly configuration: Configuration;
  /** The one shared tail of the log that feeds every subscription of this instance. */
  readonly logHub: LogHub;
  /** The API keys admins manage. */
  readonly apiKeys: ApiKeys;
  /** Worker threads that fit and evaluate models off the event loop (`evaluateModel`). */
  readonly learningPool: LearningPool;
  /** Models as actors: commands, predictions (versions kept loaded), comparisons. */
  readonly models: ModelRegistry;
  /** Forecast rules, scheduled forecasts and forecasts on request. */
  readonly forecaster: Forecaster;
  /** The learning coordinator: watched models, baselines, retrainings and promotion decisions. */
  readonly coordinator: Coordinator;
  /** Learning pipelines: definitions, runs and their progress. */
  readonly learningPipelines: LearningPipelines;
  /** Secure disposal of series (see src/retention/delete-series.ts). */
  readonly deleteSeries: (
    seriesIds: readonly string[],
    principal: string,
    reason: string | null,
  ) => Promise<SeriesDeletion>;
  /** The keys label values are hashed under: the current one and those before the last rotations. */
  readonly privacyKeys: { readonly current: string | null; readonly previous: readonly string[] };
  /** Models attached to live series, scoring their samples. */
  readonly scorers: Scorers;
  /** Recommended parameter settings, recorded and scored. */
  readonly recommender: Recommender;
  /** Who asked, as authentication established it: its id is recorded on the facts a request causes. */
  readonly caller: Principal;
  readonly refusals: RefusalSink;
}
