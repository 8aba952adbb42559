import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import type { AlertManager } from '../alerting/manager.js';
import type { CollectionAgent } from '../collection/agent.js';
import type { ComplexEventRuntime } from '../complex-events/runtime.js';
import type { AlertRule } from '../domain/alerting/rules.js';
import type { ComplexRule } from '../domain/analytics/complex-events.js';
import type { ScrapeTargetDefinition } from '../domain/configuration/scrape-targets.js';
import type { PipelineDefinition } from '../domain/pipeline/definition.js';
import type { PipelineRuntime } from '../pipelines/runtime.js';
import type { ProjectionRunner } from '../projections/runner.js';
import type { EventStore, Position } from '../stores/event-store/port.js';
import { type AlertRuleConfiguration, createAlertRuleConfiguration } from './alert-rules.js';
import { type ComplexRuleConfiguration, createComplexRuleConfiguration } from './complex-rules.js';
import { createPipelineConfiguration, type PipelineConfiguration } from './pipelines.js';
import { createProjectionControl, type ProjectionControl } from './projections.js';
import { createScrapeTargetConfiguration, type ScrapeTargetConfiguration } from './scrape-targets.js';

export type { ChangedBy } from './common.js';
export { SEED_PRINCIPAL } from './common.js';

/** What the settings files seed (each entry applied only when it says something new: see `decideEntry`). */
export interface ConfigurationSeeds {
  readonly pipelines: readonly PipelineDefinition[];
  readonly alertRules: readonly AlertRule[];
  readonly complexRules: readonly ComplexRule[];
  readonly scrapeTargets: readonly ScrapeTargetDefinition[];
}

/**
 * The service's configuration as facts: pipelines, alert rules, complex-event rules and scrape targets
 * are created, updated, paused, resumed and deleted at run time, each change recorded in the stream of
 * the actor that owns it before it takes effect; a restart folds those streams. Projections can be
 * rebuilt on demand.
 */
export interface Configuration {
  readonly pipelines: PipelineConfiguration;
  readonly alertRules: AlertRuleConfiguration;
  readonly complexRules: ComplexRuleConfiguration;
  readonly scrapeTargets: ScrapeTargetConfiguration;
  readonly projections: ProjectionControl;
  /** The complex-event runtime judging the rules in force; null while none is. */
  complexEvents(): ComplexEventRuntime | null;
  /**
   * Folds the configuration streams, seeds them from the settings, and starts, in order: the
   * pipelines, the complex-event rules, the alert manager, the scrape targets.
   */
  start(): Promise<void>;
  /** Stops in the reverse order, each consumer with a final checkpoint; later changes are refused. */
  stop(): Promise<void>;
}

export interface ConfigurationOptions {
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  readonly alertManager: AlertManager;
  readonly projections: readonly ProjectionRunner[];
  readonly seeds: ConfigurationSeeds;
  /** A pipeline's consumer, starting after `startAfter` when it has no checkpoint. */
  readonly pipelineRuntime: (definition: PipelineDefinition, startAfter: Position | null) => PipelineRuntime;
  readonly scrape: {
    readonly agent: (id: string) => CollectionAgent;
    readonly forget: (agent: CollectionAgent) => void;
    readonly defaults: { readonly intervalMs: number; readonly maxBodyBytes: number };
  };
  readonly now?: () => number;
}

export function createConfiguration(options: ConfigurationOptions): Configuration {
  const { events, host, logger, alertManager, seeds } = options;
  const now = options.now ?? Date.now;
  const pipelines = createPipelineConfiguration({
    events,
    host,
    logger,
    now,
    runtime: options.pipelineRuntime,
  });
  const complexRules = createComplexRuleConfiguration({ events, host, logger, now });
  const alertRules = createAlertRuleConfiguration(alertManager);
  const scrapeTargets = createScrapeTargetConfiguration({ host, logger, now, ...options.scrape });
  const projections = createProjectionControl({ events, projections: options.projections, now });
  return {
    pipelines,
    alertRules,
    complexRules,
    scrapeTargets,
    projections,
    complexEvents: () => complexRules.runtime(),
    async start() {
      await pipelines.start(seeds.pipelines);
      await complexRules.start(seeds.complexRules);
      await alertRules.seed(seeds.alertRules);
      await alertManager.start();
      await scrapeTargets.start(seeds.scrapeTargets);
    },
    async stop() {
      await scrapeTargets.stop();
      await alertManager.stop();
      await complexRules.stop();
      await pipelines.stop();
    },
  };
}
