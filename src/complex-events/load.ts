import { type ComplexRule, ComplexRules } from '../domain/analytics/complex-events.js';
import { loadJsonFile } from '../runtime/json-file.js';

/**
 * Reads and validates a complex-event rules file (a JSON array of rules); errors name the file, entry
 * and field. The file seeds the rules, whose truth is `complexrules-main` (see src/configuration).
 */
export function loadComplexEventRules(path: string): ComplexRule[] {
  return loadJsonFile('COMPLEX_EVENT_RULES_FILE', path, ComplexRules);
}
