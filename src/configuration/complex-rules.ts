import type { Logger } from 'pino';
import type { ActorHost } from '../actors/host.js';
import { type ComplexEventRuntime, createComplexEventRuntime } from '../complex-events/runtime.js';
import type { ComplexRule } from '../domain/analytics/complex-events.js';
import {
  type ComplexRulesState,
  complexRuleFact,
  initialComplexRules,
} from '../domain/configuration/complex-rules.js';
import {
  activeDefinitions,
  type ConfigEntry,
  contentHash,
  type EntryCommand,
} from '../domain/configuration/entry.js';
import type { EventStore } from '../stores/event-store/port.js';
import {
  type ChangedBy,
  contextOf,
  NotRunningError,
  recordEntryChange,
  SEED_PRINCIPAL,
  serialQueue,
} from './common.js';

export interface ComplexRuleConfiguration {
  /** Seeds the file's rules (see `decideEntry`), then runs the rules in force. */
  start(seed: readonly ComplexRule[]): Promise<void>;
  stop(): Promise<void>;
  /** Records the change in `complexrules-<id>` (principal `by`), then runs the rules in force after it. */
  change(id: string, command: EntryCommand<ComplexRule>, who: ChangedBy): Promise<ConfigEntry<ComplexRule>>;
  list(): Promise<readonly ConfigEntry<ComplexRule>[]>;
  /** The runtime judging the rules in force; null while none is. */
  runtime(): ComplexEventRuntime | null;
}

export interface ComplexRuleConfigurationOptions {
  readonly id?: string;
  readonly events: EventStore;
  readonly host: ActorHost;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Complex-event rules configured at run time: the actor `complexrules-<id>` records every change, and
 * one runtime judges the active rules. When they change, the runtime is replaced by one with the new
 * rules, which judges the findings after the change (starting with fresh partial matches).
 */
export function createComplexRuleConfiguration(
  options: ComplexRuleConfigurationOptions,
): ComplexRuleConfiguration {
  const { events, host, logger } = options;
  const id = options.id ?? 'main';
  const address = { kind: 'complexrules', id };
  const now = options.now ?? Date.now;
  const serial = serialQueue();
  let runtime: ComplexEventRuntime | null = null;
  let runningHash: string | null = null;
  let live = false;
  let stopped = false;

  const stateOf = () => contextOf<ComplexRulesState>(host, address, () => initialComplexRules(id));

  /** Runs the rules in force now, if they are not the ones running; judging what comes after their last change. */
  async function follow(): Promise<void> {
    const rules = activeDefinitions((await stateOf()).rules);
    const hash = rules.length ? contentHash(rules) : null;
    if (hash === runningHash) return;
    await runtime?.stop();
    runtime = null;
    runningHash = null;
    if (!rules.length) return;
    let startAfter = null;
    for await (const last of events.readStream(`complexrules-${id}`, { direction: 'backwards', maxCount: 1 }))
      startAfter = last.position;
    const next = createComplexEventRuntime({ id, rules, events, logger, startAfter });
    await next.start();
    runtime = next;
    runningHash = hash;
  }

  async function apply(
    ruleId: string,
    command: EntryCommand<ComplexRule>,
    who: ChangedBy,
  ): Promise<ConfigEntry<ComplexRule>> {
    if (stopped) throw new NotRunningError('complex-event rules');
    const change = await recordEntryChange({
      host,
      address,
      what: 'complex-event rule',
      id: ruleId,
      before: (await stateOf()).rules[ruleId],
      command,
      who,
      at: now(),
      factOf: (c, stamp) => complexRuleFact(ruleId, c, stamp),
    });
    if (change && live) await follow();
    const entry = (await stateOf()).rules[ruleId];
    if (!entry) throw new Error(`complex-event rule ${ruleId} has no configuration after its change`);
    return entry;
  }

  return {
    start: (seed) =>
      serial(async () => {
        for (const rule of seed)
          await apply(rule.id, { type: 'seed', definition: rule }, { by: SEED_PRINCIPAL, origin: 'seed' });
        live = true;
        await follow();
      }),

    stop: () =>
      serial(async () => {
        live = false;
        stopped = true;
        await runtime?.stop();
      }),

    change: (ruleId, command, who) => serial(() => apply(ruleId, command, who)),

    list: async () => Object.values((await stateOf()).rules),

    runtime: () => runtime,
  };
}
