import type { AlertManager } from '../alerting/manager.js';
import type { AlertRule } from '../domain/alerting/rules.js';
import { type ConfigEntry, type EntryCommand, seedCommandId } from '../domain/configuration/entry.js';
import { type ChangedBy, SEED_PRINCIPAL } from './common.js';

export interface AlertRuleConfiguration {
  /** Seeds the file's rules into the alert manager's stream (see `decideEntry`). */
  seed(rules: readonly AlertRule[]): Promise<void>;
  /** Records the change in the alert manager's stream (principal `by`); in force for what it evaluates next. */
  change(id: string, command: EntryCommand<AlertRule>, who: ChangedBy): Promise<ConfigEntry<AlertRule>>;
  list(): Promise<readonly ConfigEntry<AlertRule>[]>;
}

/**
 * Alert rules configured at run time: they are part of the alert manager's state (`alertmanager-main`),
 * so its state as of any time holds the rules then in force; the manager decides and records each change.
 */
export function createAlertRuleConfiguration(manager: AlertManager): AlertRuleConfiguration {
  return {
    async seed(rules) {
      const entries = new Map((await manager.rules()).map((e) => [e.id, e]));
      for (const rule of rules)
        await manager.changeRule(rule.id, { type: 'seed', definition: rule }, SEED_PRINCIPAL, {
          origin: 'seed',
          commandId: seedCommandId(rule.id, rule, entries.get(rule.id)),
        });
    },

    async change(id, command, who) {
      const entry = await manager.changeRule(id, command, who.by, { origin: who.origin ?? 'api' });
      if (!entry) throw new Error(`alert rule ${id} has no configuration after its change`);
      return entry;
    },

    list: () => manager.rules(),
  };
}
