import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AlertRule } from '../domain/alerting/rules.js';
import { ValidationError } from '../domain/errors.js';

const RulesFile = z.array(AlertRule).refine((list) => new Set(list.map((r) => r.id)).size === list.length, {
  message: 'rule ids must be unique',
});

/** Reads and validates an alert rules file (a JSON array of rules); errors name the file, entry and field. */
export function loadAlertRules(path: string): AlertRule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(`ALERT_RULES_FILE ${path}: ${(error as Error).message}`);
  }
  const parsed = RulesFile.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw new ValidationError(
    `ALERT_RULES_FILE ${path}: ${issues.map((i) => `[${i.path}] ${i.message}`).join('; ')}`,
    issues,
  );
}
