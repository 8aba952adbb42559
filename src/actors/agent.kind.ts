import { AGENT_EVENT_SCHEMA_VERSION, AgentEvent } from '../domain/agent/events.js';
import { defineActorKind } from './actor-kind.js';
import { AGENT_MACHINE_VERSION, agentMachine } from './agent.machine.js';
import { parseWith } from './parse.js';

export function agentKind() {
  return defineActorKind({
    kind: 'agent',
    machine: agentMachine,
    machineVersion: AGENT_MACHINE_VERSION,
    schemaVersion: AGENT_EVENT_SCHEMA_VERSION,
    parseEvent: (input) => parseWith(AgentEvent, input),
    effectFailed: () => null,
  });
}
