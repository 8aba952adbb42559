import { PIPELINE_EVENT_SCHEMA_VERSION, PipelineEvent } from '../domain/pipeline/events.js';
import { defineActorKind } from './actor-kind.js';
import { parseWith } from './parse.js';
import { PIPELINE_MACHINE_VERSION, pipelineMachine } from './pipeline.machine.js';

export function pipelineKind() {
  return defineActorKind({
    kind: 'pipeline',
    machine: pipelineMachine,
    machineVersion: PIPELINE_MACHINE_VERSION,
    schemaVersion: PIPELINE_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(PipelineEvent, input),
    effectFailed: () => null,
  });
}
