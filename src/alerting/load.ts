import { z } from 'zod';
import { AlertRule } from '../domain/alerting/rules.js';
import { loadJsonFile } from '../runtime/json-file.js';

const RulesFile = z.array(AlertRule).refine((list) => new Set(list.map((r) => r.id)).size === list.length, {
  message: 'rule ids must be unique',
});

/**
 * Reads and validates an alert rules file (a JSON array of rules); errors name the file, entry and field.
 * The file seeds the alert manager's rules, whose truth is its stream (see src/configuration).
 */
export function loadAlertRules(path: string): AlertRule[] {
  return loadJsonFile('ALERT_RULES_FILE', path, RulesFile);
}
