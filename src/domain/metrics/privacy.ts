import { createHash } from 'node:crypto';
import type { Labels } from './kinds.js';

export interface PrivacyRules {
  /** Labels removed at ingest. */
  readonly dropLabels: readonly string[];
  /** Labels whose values are replaced at ingest by a salted hash (the first 16 hex digits of SHA-256). */
  readonly hashLabels: readonly string[];
  readonly salt: string;
}

export const NO_PRIVACY_RULES: PrivacyRules = { dropLabels: [], hashLabels: [], salt: '' };

/** Applies the privacy rules to a label set; the same value always hashes the same under one salt. */
export function anonymise(labels: Labels, rules: PrivacyRules): Labels {
  if (rules.dropLabels.length === 0 && rules.hashLabels.length === 0) return labels;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (rules.dropLabels.includes(key)) continue;
    out[key] = rules.hashLabels.includes(key)
      ? createHash('sha256').update(rules.salt).update('\0').update(value).digest('hex').slice(0, 16)
      : value;
  }
  return out;
}
