import {
  type ChangeStamp,
  decideEntry,
  type EntryChange,
  type EntryCommand,
} from '../configuration/entry.js';
import { matches } from '../pipeline/match.js';
import type { AlertEvent } from './events.js';
import type { AlertRule } from './rules.js';
import type { AlertManagerState, AlertRecord } from './state.js';

/** Who changes a rule, when, from where, and where evaluation stands (see the rule facts). */
export interface RuleChangeStamp extends ChangeStamp {
  readonly sourcePosition: string | null;
}

function ruleFact(id: string, change: EntryChange<AlertRule>, stamp: RuleChangeStamp): AlertEvent {
  switch (change.kind) {
    case 'defined':
      return { type: 'alertRuleDefined', rule: change.definition, ...stamp };
    case 'updated':
      return { type: 'alertRuleUpdated', rule: change.definition, changes: [...change.changes], ...stamp };
    case 'paused':
      return { type: 'alertRulePaused', id, ...stamp };
    case 'resumed':
      return { type: 'alertRuleResumed', id, ...stamp };
    case 'deleted':
      return { type: 'alertRuleDeleted', id, ...stamp };
  }
}

const resolution = (alert: AlertRecord, at: number): AlertEvent => ({
  type: 'alertResolved',
  key: alert.key,
  rule: alert.rule,
  seriesId: alert.seriesId,
  labels: alert.labels,
  severity: alert.severity,
  value: alert.value,
  since: alert.since,
  at,
  sourcePosition: null,
});

/**
 * A change to the rule `id`, decided on the manager's state: the facts to record, in order (none when
 * the rule is so already). The rule's fact comes first; then the open alerts it leaves without a rule
 * resolve: all of them when the rule is paused or deleted, those of series its new `match` no longer
 * takes when it is updated (nothing else would ever resolve them). Those resolutions notify nobody.
 * Throws a ConflictError (creating a rule that exists) or a NotFoundError (changing one that does not).
 */
export function decideRuleChange(
  state: AlertManagerState,
  id: string,
  command: EntryCommand<AlertRule>,
  stamp: RuleChangeStamp,
): AlertEvent[] {
  const change = decideEntry('alert rule', id, state.rules[id], command);
  if (!change) return [];
  const open = Object.values(state.alerts).filter((a) => a.rule === id && a.status !== 'resolved');
  const orphaned =
    change.kind === 'paused' || change.kind === 'deleted'
      ? open
      : change.kind === 'updated'
        ? open.filter((a) => !matches(change.definition.match, a.labels.__name__ ?? '', a.labels))
        : [];
  return [ruleFact(id, change, stamp), ...orphaned.map((a) => resolution(a, stamp.at))];
}
