import type { TaskRunner } from '../domain/learning-pipeline/task-run.js';
import type { ActorKind } from './actor-kind.js';
import { agentKind } from './agent.kind.js';
import { alertManagerKind } from './alertmanager.kind.js';
import { complexRulesKind } from './complexrules.kind.js';
import { coordinatorKind } from './coordinator.kind.js';
import { forecastRulesKind } from './forecastrules.kind.js';
import { learningPipelineKind } from './learningpipeline.kind.js';
import { modelKind } from './model.kind.js';
import type { Trainer } from './model.training.js';
import { pipelineKind } from './pipeline.kind.js';
import { scrapeConfigKind } from './scrapeconfig.kind.js';

/**
 * Every kind of actor the service hosts, one stream category each: the host runs them, and the audit
 * API folds their streams with the same machines. A new kind is added here, once.
 */
export interface ActorKindDeps {
  /** Trains models (the worker pool and ClickHouse); absent, models train in process on inline data only. */
  readonly modelTrainer?: Trainer;
  /** Runs learning pipelines' tasks; absent, their streams are only folded. */
  readonly learningTasks?: TaskRunner;
}

export function actorKinds(deps: ActorKindDeps = {}): ActorKind[] {
  return [
    deps.modelTrainer ? modelKind(deps.modelTrainer) : modelKind(),
    agentKind(),
    pipelineKind(),
    alertManagerKind(),
    complexRulesKind(),
    scrapeConfigKind(),
    forecastRulesKind(),
    coordinatorKind(),
    learningPipelineKind(deps.learningTasks),
  ];
}
